-- The cases of an org subtree and period from one index alone: statistics count them by
-- state, outcome, overdue flag and talk state, and leave out what the viewer may not see
-- (disclosed, subject), all of which the index now carries. Reading each case's row for
-- them fetched one heap page per case (the rows are wide: a case's records). The key is
-- the one it replaces, with the org in the pattern operator class so that a subtree is one
-- range of it (`~>=~ org AND ~<~ org0`) whatever the database's collation. A state change
-- is never a HOT update, so every index of `cases` takes an entry at every transition
-- already; this one is as many as before, only wider.
DROP INDEX cases_workflow_org_created;
CREATE INDEX cases_workflow_org_created
    ON cases (workflow, subject_org text_pattern_ops, created_at DESC, id DESC)
    INCLUDE (state, outcome, overdue, talk_state, disclosed, subject_id);
