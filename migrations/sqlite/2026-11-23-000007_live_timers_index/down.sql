DROP INDEX timers_live;
DROP INDEX timers_case;
CREATE INDEX timers_due ON timers (state, due_at);
CREATE INDEX timers_case ON timers (case_id, state);
