DROP TRIGGER cases_disclosed_spans;
DROP TRIGGER transitions_stage_span;
DROP TABLE stage_spans;
