-- Deadlines as timers, written in the transaction of the transition that sets or clears
-- them, fired by the scheduler through the transition path.
CREATE TABLE timers (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,             -- 'event' (fires an event), 'reminder', 'notice' (mail only)
    name TEXT NOT NULL,             -- the event, or the deadline a reminder or notice is about
    due_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,            -- pending, firing, fired, dropped, cancelled
    lease_until TIMESTAMP,
    outcome TEXT,
    created_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP
);
CREATE INDEX timers_due ON timers (state, due_at);
CREATE INDEX timers_case ON timers (case_id, state);
