DROP INDEX cases_workflow_org_created;
CREATE INDEX cases_workflow_org_created ON cases (workflow, subject_org, created_at DESC, id DESC);
