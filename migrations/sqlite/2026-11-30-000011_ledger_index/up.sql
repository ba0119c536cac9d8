-- The ledger a page at a time: the cadres of an org subtree in (org, cadre) order, each
-- page an index range from the last cadre of the one before.
CREATE INDEX cases_ledger ON cases (workflow, subject_org, subject_id);
