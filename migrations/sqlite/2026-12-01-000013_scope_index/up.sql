-- The cases of an org subtree and period from one index alone: statistics count them by
-- state, outcome, overdue flag and talk state, and leave out what the viewer may not see
-- (disclosed, subject), all of which the index now carries. Reading each case's row for
-- them read one page per case (the rows are wide: a case's records), from disk when the
-- database outgrows memory: minutes for a province of 250 000 cases. The price: SQLite
-- updates the index at every state change, one entry more per transition.
DROP INDEX cases_workflow_org_created;
CREATE INDEX cases_workflow_org_created ON cases (workflow, subject_org, created_at DESC, id DESC,
    state, outcome, overdue, talk_state, disclosed, subject_id);
