-- The ledger a page at a time: the cadres of an org subtree in (org, cadre) order, each
-- page an index range from the last cadre of the one before. In the "C" collation, so an
-- org subtree is one byte range of it (as on SQLite) whatever the database's collation.
CREATE INDEX cases_ledger ON cases (workflow, subject_org COLLATE "C", subject_id COLLATE "C");
