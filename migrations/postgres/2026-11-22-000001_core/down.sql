DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE transitions;
DROP FUNCTION transitions_append_only();
DROP TABLE cases;
DROP TABLE people;
