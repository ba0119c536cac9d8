-- Statistics in SQL, not in memory: what they count kept in columns.
-- cases.outcome: the decision's outcome (exoneration) or the report's finding
-- (clarification); cases.talk_state: the follow-up talk's state.
ALTER TABLE cases ADD COLUMN outcome TEXT;
ALTER TABLE cases ADD COLUMN talk_state TEXT;
UPDATE cases SET
    outcome = coalesce(json_extract(data, '$.decision.outcome'), json_extract(data, '$.conclusion.finding')),
    talk_state = json_extract(data, '$.talk.state');
-- transitions.stage_seconds: whole seconds the case spent in `from_state` before this
-- transition (NULL for the filing). Derived from the chain (this row's `at` minus the
-- previous row's), checked by `rongcuo audit verify`, outside the hash. The append-only
-- guard is lifted for this one backfill and put back.
ALTER TABLE transitions ADD COLUMN stage_seconds BIGINT;
DROP TRIGGER transitions_no_update;
UPDATE transitions SET stage_seconds = (
    SELECT (
        (CAST(strftime('%s', substr(transitions.at, 1, 19)) AS INTEGER) * 1000000
            + CAST(substr(substr(transitions.at, 21) || '000000', 1, 6) AS INTEGER))
      - (CAST(strftime('%s', substr(p.at, 1, 19)) AS INTEGER) * 1000000
            + CAST(substr(substr(p.at, 21) || '000000', 1, 6) AS INTEGER))
    ) / 1000000
    FROM transitions p WHERE p.case_id = transitions.case_id AND p.seq = transitions.seq - 1)
WHERE seq > 1;
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
