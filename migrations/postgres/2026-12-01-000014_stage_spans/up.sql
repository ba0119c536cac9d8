-- How long each case stayed in each state, kept where statistics can read it: one narrow
-- row per span (a transition's `from_state` and `stage_seconds`) with the facts of its case
-- that choose who counts it (workflow, org, creation, subject, disclosed). The scope of a
-- statistics request (an org subtree and a period) is one range of one index that carries
-- everything the median and 90th percentile need: an index-only scan, where joining each of
-- the scope's cases to its transitions read ~274 000 cases and their transitions' pages for
-- a province of a million-case database.
--
-- Triggers keep it in step, inside the transaction that writes the transition, whoever
-- writes it (the engine, a timer, an import): a span comes with its transition, and a case
-- becoming disclosed to its subject updates its spans. The case's workflow, org, creation
-- and subject never change. Derived data, like an index: no primary key (the trigger's own
-- look-up goes by the scope index), rebuilt from `transitions` by this migration.
CREATE TABLE stage_spans (
    workflow TEXT NOT NULL,
    subject_org TEXT NOT NULL,
    case_created_at TIMESTAMP NOT NULL,
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    disclosed BOOLEAN NOT NULL,
    stage TEXT NOT NULL,
    seconds BIGINT NOT NULL
);

CREATE FUNCTION stage_spans_of_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq, subject_id,
                             disclosed, stage, seconds)
    SELECT c.workflow, c.subject_org, c.created_at, c.id, NEW.seq, c.subject_id, c.disclosed,
           NEW.from_state, NEW.stage_seconds
    FROM cases c WHERE c.id = NEW.case_id;
    RETURN NULL;
END $$;

CREATE FUNCTION stage_spans_of_disclosure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stage_spans SET disclosed = NEW.disclosed
    WHERE workflow = NEW.workflow AND subject_org = NEW.subject_org
      AND case_created_at = NEW.created_at AND case_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER transitions_stage_span AFTER INSERT ON transitions
    FOR EACH ROW WHEN (NEW.stage_seconds IS NOT NULL AND NEW.from_state IS NOT NULL)
    EXECUTE FUNCTION stage_spans_of_transition();

CREATE TRIGGER cases_disclosed_spans AFTER UPDATE OF disclosed ON cases
    FOR EACH ROW WHEN (NEW.disclosed IS DISTINCT FROM OLD.disclosed)
    EXECUTE FUNCTION stage_spans_of_disclosure();

INSERT INTO stage_spans (workflow, subject_org, case_created_at, case_id, seq, subject_id,
                         disclosed, stage, seconds)
SELECT c.workflow, c.subject_org, c.created_at, c.id, t.seq, c.subject_id, c.disclosed,
       t.from_state, t.stage_seconds
FROM transitions t JOIN cases c ON c.id = t.case_id
WHERE t.stage_seconds IS NOT NULL AND t.from_state IS NOT NULL;

CREATE INDEX stage_spans_scope ON stage_spans (workflow, subject_org text_pattern_ops, case_created_at)
    INCLUDE (stage, seconds, disclosed, subject_id, case_id);
