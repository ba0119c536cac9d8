-- Evidence files. A file's bytes are stored once per case and content (`blobs`), in chunks
-- written as the upload arrives (`blob_chunks`: sealed files hold nonce + ciphertext per
-- chunk); each upload is an `attachments` row naming a blob, with the timeline row (`seq`)
-- that recorded it. A blob is `complete` once its upload finished and was recorded; an
-- incomplete one is an upload in progress or one that died (swept after an hour).
CREATE TABLE blobs (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    sealed BOOLEAN NOT NULL,
    complete BOOLEAN NOT NULL,
    sha256 TEXT,
    crc32 BIGINT,
    size BIGINT NOT NULL,
    chunks INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Identical content within a case is stored once (sealed and clear copies apart).
CREATE UNIQUE INDEX blobs_content ON blobs (case_id, sha256, sealed) WHERE complete;
CREATE INDEX blobs_staging ON blobs (created_at) WHERE NOT complete;

CREATE TABLE blob_chunks (
    blob_id TEXT NOT NULL REFERENCES blobs (id),
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (blob_id, seq)
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    blob_id TEXT NOT NULL REFERENCES blobs (id),
    seq BIGINT NOT NULL,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    visibility TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_role TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
-- A case's files in the order they came (ids are UUIDv7).
CREATE INDEX attachments_case ON attachments (case_id, id);
CREATE INDEX attachments_blob ON attachments (blob_id);
-- Notes on a case (also in its timeline, whose row `seq` is): staff-only or for the parties.
CREATE TABLE notes (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_role TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE FUNCTION attachments_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'attachments are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER attachments_no_change BEFORE UPDATE OR DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION attachments_append_only();
