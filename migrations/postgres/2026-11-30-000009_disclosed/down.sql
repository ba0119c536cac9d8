ALTER TABLE cases DROP COLUMN disclosed;
