-- A list page filtered by state and org subtree (the common staff view: "filed cases in my
-- province") sorts the matches' index entries instead of walking the newest cases of
-- every org and fetching each row to reject it. The subtree is a range on subject_org.
CREATE INDEX cases_workflow_state_org_created ON cases (workflow, state, subject_org, created_at DESC, id DESC);
