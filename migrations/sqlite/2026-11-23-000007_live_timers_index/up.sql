-- Timers by what they are looked up for, so a transition moves fewer index entries.
-- The scheduler only ever looks for live timers (pending, or firing with a lease that may
-- have run out): a partial index over those alone loses a timer's entry when it is
-- cancelled, fired or dropped, instead of moving it to another state's range, and stays
-- as small as the number of open deadlines however many timers history holds. A case has
-- a handful of timers: by case id alone, a change of state moves no entry at all.
DROP INDEX timers_due;
DROP INDEX timers_case;
CREATE INDEX timers_live ON timers (state, due_at) WHERE state = 'pending' OR state = 'firing';
CREATE INDEX timers_case ON timers (case_id);
