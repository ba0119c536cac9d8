DROP TRIGGER attachments_no_delete;
DROP TRIGGER attachments_no_update;
DROP TABLE notes;
DROP TABLE attachments;
DROP TABLE blob_chunks;
DROP TABLE blobs;
