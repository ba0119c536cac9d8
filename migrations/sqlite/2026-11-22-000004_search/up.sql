-- Free text over title and description, and an index for every list filter.
ALTER TABLE cases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE cases SET search_text = lower(title || ' ' || coalesce(json_extract(data, '$.incident.description'), '')
    || ' ' || coalesce(json_extract(data, '$.allegation.details'), ''));
CREATE INDEX cases_workflow_investigator_created ON cases (workflow, investigator_id, created_at DESC, id DESC);
CREATE INDEX cases_workflow_overdue_created ON cases (workflow, overdue, created_at DESC, id DESC);
