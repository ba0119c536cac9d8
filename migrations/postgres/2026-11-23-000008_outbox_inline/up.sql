-- A mail's row (subject, text and HTML bodies, ~1.5-3 KB of mostly Chinese text) is
-- written once with its transition and read once by the worker. Past 2 KB PostgreSQL
-- tried to compress its bodies (pglz, which gains little on CJK text) and moved them to the
-- TOAST table: a compression, a TOAST row and a TOAST index entry at every transition.
-- Rows up to a page stay whole, as they were sent; larger ones are still toasted.
ALTER TABLE outbox SET (toast_tuple_target = 8160);
