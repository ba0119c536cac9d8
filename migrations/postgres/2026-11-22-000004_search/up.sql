-- Free text over title and description, and an index for every list filter.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE cases ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE cases SET search_text = lower(title || ' ' || coalesce(data::jsonb #>> '{incident,description}', '')
    || ' ' || coalesce(data::jsonb #>> '{allegation,details}', ''));
CREATE INDEX cases_workflow_investigator_created ON cases (workflow, investigator_id, created_at DESC, id DESC);
CREATE INDEX cases_workflow_overdue_created ON cases (workflow, overdue, created_at DESC, id DESC);
CREATE INDEX cases_search_trgm ON cases USING gin (search_text gin_trgm_ops);
-- `subject_org LIKE 'anhui/hefei/%'` uses an index only with the pattern operator class.
CREATE INDEX cases_subject_org_pattern ON cases (subject_org text_pattern_ops);
