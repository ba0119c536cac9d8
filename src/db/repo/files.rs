//! Evidence files as rows: blobs (the bytes, in chunks, once per case and content) and the
//! attachments that name them. The same SQL on both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConnection;
use crate::db::models::{AttachmentRow, BlobRow, ChunkRow, NoteRow};
use crate::db::schema::{attachments, blob_chunks, blobs, notes};

pub fn insert_blob(conn: &mut DbConnection, row: &BlobRow) -> QueryResult<()> {
    diesel::insert_into(blobs::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Adds one chunk of an upload in progress and the size received so far (what the case's
/// quota counts while the upload runs). False when the blob is no longer being uploaded.
pub fn append_chunk(conn: &mut DbConnection, chunk: &ChunkRow, size: i64) -> QueryResult<bool> {
    let n = diesel::update(
        blobs::table
            .filter(blobs::id.eq(&chunk.blob_id))
            .filter(blobs::complete.eq(false)),
    )
    .set((blobs::size.eq(size), blobs::chunks.eq(chunk.seq + 1)))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(blob_chunks::table)
        .values(chunk)
        .execute(conn)?;
    Ok(true)
}

/// One chunk's stored bytes (sealed ones as stored).
pub fn chunk(conn: &mut DbConnection, blob_id: &str, seq: i32) -> QueryResult<Option<Vec<u8>>> {
    blob_chunks::table
        .filter(blob_chunks::blob_id.eq(blob_id))
        .filter(blob_chunks::seq.eq(seq))
        .select(blob_chunks::data)
        .first(conn)
        .optional()
}

pub fn blob(conn: &mut DbConnection, id: &str) -> QueryResult<Option<BlobRow>> {
    blobs::table.find(id).first(conn).optional()
}

/// The complete blob of `case_id` with this content, if one is stored.
pub fn find_content(
    conn: &mut DbConnection,
    case_id: &str,
    sha256: &str,
    sealed: bool,
) -> QueryResult<Option<BlobRow>> {
    blobs::table
        .filter(blobs::case_id.eq(case_id))
        .filter(blobs::sha256.eq(sha256))
        .filter(blobs::sealed.eq(sealed))
        .filter(blobs::complete.eq(true))
        .first(conn)
        .optional()
}

/// Marks an upload's blob complete with what its bytes came to. False when it is gone (a
/// sweep took it) or was completed already.
pub fn complete(conn: &mut DbConnection, b: &BlobRow) -> QueryResult<bool> {
    let n = diesel::update(
        blobs::table
            .filter(blobs::id.eq(&b.id))
            .filter(blobs::complete.eq(false)),
    )
    .set((
        blobs::complete.eq(true),
        blobs::sha256.eq(&b.sha256),
        blobs::crc32.eq(b.crc32),
        blobs::size.eq(b.size),
        blobs::chunks.eq(b.chunks),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Removes an upload that did not complete, with its chunks. A complete blob is kept.
pub fn discard(conn: &mut DbConnection, blob_id: &str) -> QueryResult<()> {
    let incomplete = blobs::table
        .filter(blobs::id.eq(blob_id))
        .filter(blobs::complete.eq(false))
        .select(blobs::id)
        .first::<String>(conn)
        .optional()?;
    if incomplete.is_some() {
        diesel::delete(blob_chunks::table.filter(blob_chunks::blob_id.eq(blob_id)))
            .execute(conn)?;
        diesel::delete(blobs::table.filter(blobs::id.eq(blob_id))).execute(conn)?;
    }
    Ok(())
}

/// Uploads begun before `before` that never completed (their process died): at most `limit`.
pub fn stale_uploads(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    blobs::table
        .filter(blobs::complete.eq(false))
        .filter(blobs::created_at.lt(before))
        .select(blobs::id)
        .limit(limit)
        .load(conn)
}

/// The bytes a case's files take (each stored blob once, uploads in progress included).
pub fn stored_bytes(conn: &mut DbConnection, case_id: &str) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM blobs WHERE case_id = $1",
    )
    .bind::<Text, _>(case_id)
    .get_result::<Sum>(conn)?
    .n)
}

pub fn insert_attachment(conn: &mut DbConnection, row: &AttachmentRow) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn attachment(
    conn: &mut DbConnection,
    case_id: &str,
    id: &str,
) -> QueryResult<Option<AttachmentRow>> {
    attachments::table
        .filter(attachments::id.eq(id))
        .filter(attachments::case_id.eq(case_id))
        .first(conn)
        .optional()
}

/// A page of a case's attachments of these visibilities, oldest first, after `after`.
pub fn list(
    conn: &mut DbConnection,
    case_id: &str,
    visibilities: &[&str],
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AttachmentRow>> {
    let mut q = attachments::table
        .filter(attachments::case_id.eq(case_id))
        .filter(attachments::visibility.eq_any(visibilities))
        .order(attachments::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(attachments::id.gt(after));
    }
    q.load(conn)
}

/// The attachments of a case among `ids`.
pub fn by_ids(
    conn: &mut DbConnection,
    case_id: &str,
    ids: &[String],
) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::case_id.eq(case_id))
        .filter(attachments::id.eq_any(ids))
        .load(conn)
}

/// A page of the complete blobs, by id, after `after` (the verifier walks them all).
pub fn complete_blobs(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<BlobRow>> {
    blobs::table
        .filter(blobs::complete.eq(true))
        .filter(blobs::id.gt(after))
        .order(blobs::id.asc())
        .limit(limit)
        .load(conn)
}

/// Every attachment of a blob.
pub fn of_blob(conn: &mut DbConnection, blob_id: &str) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::blob_id.eq(blob_id))
        .order(attachments::id.asc())
        .load(conn)
}

pub fn insert_note(conn: &mut DbConnection, row: &NoteRow) -> QueryResult<()> {
    diesel::insert_into(notes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A page of a case's notes of these visibilities, oldest first, after timeline row `after`.
pub fn notes(
    conn: &mut DbConnection,
    case_id: &str,
    visibilities: &[&str],
    after: i64,
    limit: i64,
) -> QueryResult<Vec<NoteRow>> {
    notes::table
        .filter(notes::case_id.eq(case_id))
        .filter(notes::seq.gt(after))
        .filter(notes::visibility.eq_any(visibilities))
        .order(notes::seq.asc())
        .limit(limit)
        .load(conn)
}
