-- Nothing on SQLite: the PostgreSQL migration of the same number keeps mail rows out of
-- TOAST; SQLite stores a row whole up to its page (overflow pages beyond), uncompressed.
SELECT 1;
