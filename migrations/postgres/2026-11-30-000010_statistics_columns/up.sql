-- Statistics in SQL, not in memory: what they count kept in columns.
-- cases.outcome: the decision's outcome (exoneration) or the report's finding
-- (clarification); cases.talk_state: the follow-up talk's state.
ALTER TABLE cases ADD COLUMN outcome TEXT;
ALTER TABLE cases ADD COLUMN talk_state TEXT;
UPDATE cases SET
    outcome = coalesce(data::json #>> '{decision,outcome}', data::json #>> '{conclusion,finding}'),
    talk_state = data::json #>> '{talk,state}';
-- transitions.stage_seconds: whole seconds the case spent in `from_state` before this
-- transition (NULL for the filing). Derived from the chain (this row's `at` minus the
-- previous row's), checked by `rongcuo audit verify`, outside the hash. The append-only
-- guard is lifted for this one backfill and put back.
ALTER TABLE transitions ADD COLUMN stage_seconds BIGINT;
ALTER TABLE transitions DISABLE TRIGGER transitions_no_change;
UPDATE transitions t SET stage_seconds = trunc(extract(epoch FROM (t.at - p.at)))::bigint
    FROM transitions p WHERE p.case_id = t.case_id AND p.seq = t.seq - 1;
ALTER TABLE transitions ENABLE TRIGGER transitions_no_change;
