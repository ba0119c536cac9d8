-- The hash of each case's newest audit row, kept on the case: a transition reads it with
-- the case instead of querying the chain, and the version guard keeps both in step.
ALTER TABLE cases ADD COLUMN audit_head TEXT NOT NULL DEFAULT '';
UPDATE cases SET audit_head = t.hash FROM transitions t
    WHERE t.case_id = cases.id AND t.seq = cases.version;
