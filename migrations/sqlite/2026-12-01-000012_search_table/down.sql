ALTER TABLE cases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE cases SET search_text = (SELECT text FROM case_search s WHERE s.case_id = cases.id);
DROP TRIGGER case_search_fts_update;
DROP TRIGGER case_search_fts_delete;
DROP TRIGGER case_search_fts_insert;
DROP TABLE case_search_fts;
DROP TABLE case_search;
