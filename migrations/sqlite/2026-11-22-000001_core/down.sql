DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TRIGGER transitions_no_delete;
DROP TRIGGER transitions_no_update;
DROP TABLE transitions;
DROP TABLE cases;
DROP TABLE people;
