ALTER TABLE cases DROP COLUMN audit_head;
