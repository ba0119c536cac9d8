-- Nothing on PostgreSQL: the SQLite migration of the same number adds an index for list
-- pages filtered by state and org subtree; PostgreSQL's planner already combines
-- cases_workflow_state_created with cases_subject_org_pattern (tests/api/plans.rs), and
-- each index more is one more entry to write at every transition.
SELECT 1;
