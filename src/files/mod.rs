//! Evidence files: what may be uploaded (media types checked against the bytes), how an
//! upload is received (hashed and cut into chunks as it arrives, in constant memory), and
//! where the chunks go ([`Store`]: the database today, the one place an object store would
//! take over). No HTTP here: `http/` feeds bytes in, the engine records the result.

use sha2::{Digest, Sha256};

use crate::db::models::{BlobRow, ChunkRow};
use crate::db::{Db, repo};
use crate::error::{AppError, ErrorKind};
use crate::seal::Sealer;

/// The size of a stored chunk: an upload holds about one in memory at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Media types whose bytes no magic number identifies: checked otherwise.
const TEXT: &str = "text/plain";

/// Media types that are containers of another format's signature (an OOXML document is a
/// ZIP, a Word 97 file an OLE compound file), for the sniffers that cannot look deeper.
const CONTAINERS: &[(&str, &str)] = &[
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/zip",
    ),
    ("application/vnd.oasis.opendocument.text", "application/zip"),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/zip",
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        "application/zip",
    ),
    ("application/msword", "application/x-ole-storage"),
    ("application/vnd.ms-excel", "application/x-ole-storage"),
    ("application/vnd.ms-powerpoint", "application/x-ole-storage"),
];

/// The media type of a `Content-Type` value: lower-cased, parameters dropped.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// 415 unless `media_type` is one of `allowed`.
pub fn check_allowed(media_type: &str, allowed: &[String]) -> Result<(), AppError> {
    if media_type.is_empty() {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "Content-Type is required: the file's media type (application/pdf, image/png, ...)",
        ));
    }
    if !allowed.iter().any(|a| a == media_type) {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "`{media_type}` may not be uploaded; allowed: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(())
}

/// 415 unless the file's first bytes are what `media_type` says they are.
pub fn check_bytes(media_type: &str, head: &[u8]) -> Result<(), AppError> {
    let found = infer::get(head).map(|t| t.mime_type());
    let fits = match found {
        Some(found) => {
            found == media_type
                || CONTAINERS
                    .iter()
                    .any(|(declared, container)| *declared == media_type && *container == found)
        }
        // Plain text: no signature of another format, no NUL byte.
        None => media_type == TEXT && !head.contains(&0),
    };
    if fits {
        return Ok(());
    }
    Err(AppError::new(
        ErrorKind::UnsupportedMediaType,
        match found {
            Some(found) => {
                format!("the file was sent as `{media_type}` but its bytes are `{found}`")
            }
            None => format!("the file was sent as `{media_type}` but its bytes are not that"),
        },
    ))
}

/// A file name as stored: the last path segment, without control characters, at most 255
/// characters. 422 naming `field` when nothing is left.
pub fn clean_filename(raw: &str, field: &str) -> Result<String, AppError> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim().to_string();
    if name.is_empty() || name == "." || name == ".." {
        return Err(AppError::validation(
            field,
            "must name the file (filename*=UTF-8''… for a Chinese name)",
        ));
    }
    Ok(name)
}

/// The associated data a sealed chunk is bound to: its case, blob and place, so no chunk
/// can be moved to another file or position.
fn chunk_context(case_id: &str, blob_id: &str, seq: i32) -> String {
    format!("{case_id}/{blob_id}/{seq}")
}

/// A chunk to store: its place in the file and its bytes.
pub type Chunk = (i32, Vec<u8>);

/// What an upload came to once all its bytes arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub sha256: String,
    pub crc32: u32,
    pub size: u64,
    pub chunks: i32,
}

/// An upload in progress: bytes in, full chunks out, hashed on the way.
pub struct Receiver {
    media_type: String,
    limit: u64,
    buffer: Vec<u8>,
    sha: Sha256,
    crc: crc32fast::Hasher,
    size: u64,
    seq: i32,
    checked: bool,
}

impl Receiver {
    /// `limit`: the most bytes this file may have (the file limit, or what the case has
    /// left, whichever is less).
    pub fn new(media_type: &str, limit: u64) -> Receiver {
        Receiver {
            media_type: media_type.to_string(),
            limit,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            sha: Sha256::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            seq: 0,
            checked: false,
        }
    }

    /// Takes bytes as they arrive; a chunk that filled up is handed back to be stored
    /// (with its place), at most one per call for a piece no larger than a chunk.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<Chunk>, AppError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(AppError::new(
                ErrorKind::TooLarge,
                format!(
                    "the file is larger than the {} bytes allowed here",
                    self.limit
                ),
            ));
        }
        let mut full = Vec::new();
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.buffer.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.buffer.extend_from_slice(now);
            bytes = rest;
            if self.buffer.len() == CHUNK_BYTES {
                full.push(self.cut()?);
            }
        }
        Ok(full)
    }

    fn cut(&mut self) -> Result<Chunk, AppError> {
        if !self.checked {
            check_bytes(&self.media_type, &self.buffer)?;
            self.checked = true;
        }
        self.sha.update(&self.buffer);
        self.crc.update(&self.buffer);
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        let seq = self.seq;
        self.seq += 1;
        Ok((seq, chunk))
    }

    /// The last (partial) chunk, if any, and what the whole file came to. 422 for an empty
    /// file.
    pub fn finish(mut self) -> Result<(Option<Chunk>, Received), AppError> {
        if self.size == 0 {
            return Err(AppError::validation("file", "is empty"));
        }
        let last = if self.buffer.is_empty() {
            None
        } else {
            Some(self.cut()?)
        };
        let received = Received {
            sha256: hex::encode(self.sha.finalize()),
            crc32: self.crc.finalize(),
            size: self.size,
            chunks: self.seq,
        };
        Ok((last, received))
    }
}

/// Where a file's chunks are kept: rows of `blob_chunks`, sealed ones encrypted with the
/// reporter key. The engine records blobs and attachments in its transactions; this is all
/// that touches the bytes.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub sealer: std::sync::Arc<Sealer>,
}

impl Store {
    /// Stores one chunk of an upload in progress (sealed first when `sealed`).
    pub async fn put(
        &self,
        blob: &BlobRow,
        seq: i32,
        bytes: Vec<u8>,
        size_so_far: u64,
    ) -> Result<(), AppError> {
        let data = if blob.sealed {
            self.sealer
                .seal_bytes(&chunk_context(&blob.case_id, &blob.id, seq), &bytes)
                .map_err(AppError::internal)?
        } else {
            bytes
        };
        let chunk = ChunkRow {
            blob_id: blob.id.clone(),
            seq,
            data,
        };
        let size = size_so_far as i64;
        let stored = self
            .db
            .write(move |conn| {
                repo::files::append_chunk(conn, &chunk, size).map_err(AppError::from)
            })
            .await?;
        if !stored {
            return Err(AppError::new(
                ErrorKind::Unavailable,
                "the upload was abandoned (it took too long); send the file again",
            ));
        }
        Ok(())
    }

    /// One chunk's clear bytes.
    pub async fn get(&self, blob: &BlobRow, seq: i32) -> Result<Vec<u8>, AppError> {
        let id = blob.id.clone();
        let data = self
            .db
            .read(move |conn| repo::files::chunk(conn, &id, seq).map_err(AppError::from))
            .await?;
        self.open(blob, seq, data)
    }

    /// Blocking form of [`Store::get`], for threads of their own (an export, the verifier).
    pub fn get_blocking(&self, blob: &BlobRow, seq: i32) -> Result<Vec<u8>, AppError> {
        let id = blob.id.clone();
        let data = self
            .db
            .read_blocking(|conn| repo::files::chunk(conn, &id, seq).map_err(AppError::from))?;
        self.open(blob, seq, data)
    }

    fn open(&self, blob: &BlobRow, seq: i32, data: Option<Vec<u8>>) -> Result<Vec<u8>, AppError> {
        let data =
            data.ok_or_else(|| AppError::internal(format!("blob {} has no chunk {seq}", blob.id)))?;
        if !blob.sealed {
            return Ok(data);
        }
        self.sealer
            .open_bytes(&chunk_context(&blob.case_id, &blob.id, seq), &data)
            .map_err(|e| AppError::internal(format!("blob {} chunk {seq}: {e}", blob.id)))
    }

    /// Forgets an upload that did not complete.
    pub async fn discard(&self, blob_id: String) {
        let result = self
            .db
            .write(move |conn| repo::files::discard(conn, &blob_id).map_err(AppError::from))
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "an abandoned upload's chunks stay until the sweep");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

    #[test]
    fn bytes_must_be_what_the_media_type_says() {
        check_bytes("application/pdf", PDF).unwrap();
        let e = check_bytes("image/png", PDF).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedMediaType);
        assert!(e.detail.contains("application/pdf"), "{}", e.detail);
        check_bytes("text/plain", "情况说明\n".as_bytes()).unwrap();
        assert!(check_bytes("text/plain", PDF).is_err());
        assert!(check_bytes("text/plain", b"a\0b").is_err());
        assert!(check_bytes("application/pdf", b"just text").is_err());
    }

    #[test]
    fn file_names_keep_their_last_segment_and_no_control_characters() {
        assert_eq!(
            clean_filename("../../etc/情况说明.pdf", "f").unwrap(),
            "情况说明.pdf"
        );
        assert_eq!(clean_filename("C:\\x\\a\u{7}b.txt", "f").unwrap(), "ab.txt");
        assert!(clean_filename("dir/", "f").is_err());
        assert_eq!(
            clean_filename(&"名".repeat(300), "f")
                .unwrap()
                .chars()
                .count(),
            255
        );
    }

    #[test]
    fn a_receiver_cuts_chunks_and_hashes_all_of_it() {
        let mut r = Receiver::new("text/plain", 10 * CHUNK_BYTES as u64);
        let data = vec![b'a'; CHUNK_BYTES * 2 + 10];
        let mut chunks = Vec::new();
        for piece in data.chunks(1000) {
            chunks.extend(r.push(piece).unwrap());
        }
        let (last, received) = r.finish().unwrap();
        chunks.extend(last);
        assert_eq!(chunks.len(), 3);
        assert_eq!(
            chunks.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(chunks.concat_bytes(), data);
        assert_eq!(received.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!(received.crc32, crc32fast::hash(&data));
        assert_eq!(received.size, data.len() as u64);
        assert_eq!(received.chunks, 3);
        let mut small = Receiver::new("text/plain", 5);
        assert_eq!(small.push(b"123456").unwrap_err().kind, ErrorKind::TooLarge);
        assert!(Receiver::new("text/plain", 5).finish().is_err());
    }

    trait Concat {
        fn concat_bytes(&self) -> Vec<u8>;
    }
    impl Concat for Vec<(i32, Vec<u8>)> {
        fn concat_bytes(&self) -> Vec<u8> {
            self.iter().flat_map(|(_, b)| b.clone()).collect()
        }
    }
}
