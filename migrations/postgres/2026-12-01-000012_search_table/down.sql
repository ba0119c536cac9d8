DROP INDEX cases_workflow_state_org_created;
ALTER TABLE cases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE cases SET search_text = s.text FROM case_search s WHERE s.case_id = cases.id;
CREATE INDEX cases_search_trgm ON cases USING gin (search_text gin_trgm_ops);
DROP TABLE case_search;
