DROP TRIGGER transitions_no_update;
ALTER TABLE transitions DROP COLUMN stage_seconds;
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
ALTER TABLE cases DROP COLUMN talk_state;
ALTER TABLE cases DROP COLUMN outcome;
