ALTER TABLE transitions DROP COLUMN stage_seconds;
ALTER TABLE cases DROP COLUMN talk_state;
ALTER TABLE cases DROP COLUMN outcome;
