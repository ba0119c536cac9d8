DROP INDEX cases_workflow_overdue_created;
DROP INDEX cases_workflow_investigator_created;
ALTER TABLE cases DROP COLUMN search_text;
