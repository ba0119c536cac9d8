ALTER TABLE outbox DROP COLUMN body_html;
