DROP INDEX cases_subject_org_pattern;
DROP INDEX cases_search_trgm;
DROP INDEX cases_workflow_overdue_created;
DROP INDEX cases_workflow_investigator_created;
ALTER TABLE cases DROP COLUMN search_text;
