DROP TRIGGER attachments_no_change ON attachments;
DROP FUNCTION attachments_append_only();
DROP TABLE notes;
DROP TABLE attachments;
DROP TABLE blob_chunks;
DROP TABLE blobs;
