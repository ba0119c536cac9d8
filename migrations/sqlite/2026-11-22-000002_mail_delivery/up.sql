-- Delivery needs the HTML part beside the text.
ALTER TABLE outbox ADD COLUMN body_html TEXT NOT NULL DEFAULT '';
