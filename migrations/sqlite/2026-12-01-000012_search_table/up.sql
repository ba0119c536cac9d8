-- Free text in a table of its own, written once when a case is filed (title and
-- description never change afterwards), with a full-text index of its trigrams (FTS5's
-- trigram tokenizer: any substring of three characters or more, Chinese included, is found
-- from the index; `LIKE '%…%'` over `cases` read every case of the list's scope).
-- `n` is an explicit INTEGER PRIMARY KEY: the full-text index refers to rows by it, and
-- VACUUM keeps it (it may renumber an implicit rowid).
CREATE TABLE case_search (
    n INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE REFERENCES cases (id),
    text TEXT NOT NULL
);
CREATE VIRTUAL TABLE case_search_fts USING fts5(
    text, content = 'case_search', content_rowid = 'n', tokenize = 'trigram'
);
CREATE TRIGGER case_search_fts_insert AFTER INSERT ON case_search BEGIN
    INSERT INTO case_search_fts (rowid, text) VALUES (new.n, new.text);
END;
CREATE TRIGGER case_search_fts_delete AFTER DELETE ON case_search BEGIN
    INSERT INTO case_search_fts (case_search_fts, rowid, text) VALUES ('delete', old.n, old.text);
END;
CREATE TRIGGER case_search_fts_update AFTER UPDATE ON case_search BEGIN
    INSERT INTO case_search_fts (case_search_fts, rowid, text) VALUES ('delete', old.n, old.text);
    INSERT INTO case_search_fts (rowid, text) VALUES (new.n, new.text);
END;
INSERT INTO case_search (case_id, text) SELECT id, search_text FROM cases ORDER BY created_at, id;
ALTER TABLE cases DROP COLUMN search_text;
