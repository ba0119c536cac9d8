-- Free text in a table of its own, written once when a case is filed (title and
-- description never change afterwards). In `cases`, its trigram index (GIN) took a new entry
-- for every trigram of the text at every transition: a state change is never a HOT update,
-- so each new row version is indexed again by every index of the table.
CREATE TABLE case_search (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    text TEXT NOT NULL
);
INSERT INTO case_search (case_id, text) SELECT id, search_text FROM cases;
CREATE INDEX case_search_trgm ON case_search USING gin (text gin_trgm_ops);
DROP INDEX cases_search_trgm;
ALTER TABLE cases DROP COLUMN search_text;
-- A page filtered by state and org subtree: the state and the subtree's range of orgs in
-- one index (the pattern operator class, so that `LIKE 'p7/%'` is a range whatever the
-- database's collation), where before the planner read every case of the state or every
-- case of the subtree from the heap to test the other condition.
CREATE INDEX cases_workflow_state_org_created
    ON cases (workflow, state, subject_org text_pattern_ops, created_at DESC, id DESC);
