DROP TRIGGER cases_disclosed_spans ON cases;
DROP TRIGGER transitions_stage_span ON transitions;
DROP FUNCTION stage_spans_of_disclosure();
DROP FUNCTION stage_spans_of_transition();
DROP TABLE stage_spans;
