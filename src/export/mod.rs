//! The case file (卷宗) as one ZIP: `case.json`, `timeline.json`, `notes.json`, the files the
//! caller may see under `files/`, and last `manifest.json` (every entry's size and SHA-256,
//! and the audit chain). The archive is written in one canonical form (every entry stored
//! uncompressed, names in UTF-8, one fixed timestamp, no extra fields or comments), so
//! `rongcuo verify-export` ([`verify`]) can check every byte of it offline: entries against
//! their CRC-32 and the manifest, headers against the one form they may have, the chain
//! against its own hashes.

pub mod verify;

use serde::{Deserialize, Serialize};

/// The format a manifest names.
pub const FORMAT: &str = "rongcuo-export/1";
/// The last entry of every export.
pub const MANIFEST: &str = "manifest.json";

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// ZIP 2.0: stored entries.
const VERSION: u16 = 20;
/// General-purpose flag bit 11: the name is UTF-8.
const UTF8: u16 = 0x0800;
/// Every entry's time: 1980-01-01 00:00 in MS-DOS form (time 0, date 0x0021).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = 0x0021;
const LOCAL_HEADER: usize = 30;
const CENTRAL_HEADER: usize = 46;
const END_RECORD: usize = 22;

/// One entry of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// One row of the audit chain as the manifest carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub seq: i64,
    pub event: String,
    pub hash: String,
    pub prev_hash: String,
    /// The row's payload was withheld or redacted for the exporter: its hash is linked to,
    /// not recomputed.
    pub redacted: bool,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub case_id: String,
    pub case_number: String,
    pub workflow: String,
    /// The hash of the case's newest audit row when exported: compare it with the live
    /// case's timeline to tie the archive to the service.
    pub audit_head: String,
    pub exported_at: String,
    pub exported_by: String,
    pub entries: Vec<Entry>,
    pub chain: Vec<Link>,
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Why an archive cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the case file would be larger than 4 GiB, more than a ZIP without ZIP64 holds")]
    TooLarge,
    #[error("the case file would have more than 65 535 entries")]
    TooMany,
}

/// Writes the canonical archive as a sequence of byte pieces: for each entry its header
/// (then the caller sends its bytes), and at the end the central directory.
#[derive(Default)]
pub struct ZipWriter {
    offset: u64,
    central: Vec<u8>,
    entries: u16,
}

impl ZipWriter {
    /// The local header of an entry of `size` bytes whose CRC-32 is `crc`; the entry's
    /// bytes follow it.
    pub fn header(&mut self, name: &str, size: u64, crc: u32) -> Result<Vec<u8>, WriteError> {
        let name = name.as_bytes();
        let (size32, offset32) = match (u32::try_from(size), u32::try_from(self.offset)) {
            (Ok(s), Ok(o)) => (s, o),
            _ => return Err(WriteError::TooLarge),
        };
        if self.entries == u16::MAX {
            return Err(WriteError::TooMany);
        }
        let mut h = Vec::with_capacity(LOCAL_HEADER + name.len());
        u32le(&mut h, LOCAL);
        u16le(&mut h, VERSION);
        u16le(&mut h, UTF8);
        u16le(&mut h, 0);
        u16le(&mut h, DOS_TIME);
        u16le(&mut h, DOS_DATE);
        u32le(&mut h, crc);
        u32le(&mut h, size32);
        u32le(&mut h, size32);
        u16le(&mut h, name.len() as u16);
        u16le(&mut h, 0);
        h.extend_from_slice(name);
        let c = &mut self.central;
        u32le(c, CENTRAL);
        u16le(c, VERSION);
        u16le(c, VERSION);
        u16le(c, UTF8);
        u16le(c, 0);
        u16le(c, DOS_TIME);
        u16le(c, DOS_DATE);
        u32le(c, crc);
        u32le(c, size32);
        u32le(c, size32);
        u16le(c, name.len() as u16);
        u16le(c, 0);
        u16le(c, 0);
        u16le(c, 0);
        u16le(c, 0);
        u32le(c, 0);
        u32le(c, offset32);
        c.extend_from_slice(name);
        self.offset += h.len() as u64 + size;
        self.entries += 1;
        Ok(h)
    }

    /// A whole small entry: its header and its bytes.
    pub fn entry(&mut self, name: &str, bytes: &[u8]) -> Result<Vec<u8>, WriteError> {
        let mut out = self.header(name, bytes.len() as u64, crc32fast::hash(bytes))?;
        out.extend_from_slice(bytes);
        Ok(out)
    }

    /// The central directory and its end record.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        let size = u32::try_from(self.central.len()).map_err(|_| WriteError::TooLarge)?;
        let offset = u32::try_from(self.offset).map_err(|_| WriteError::TooLarge)?;
        let mut out = self.central;
        u32le(&mut out, END);
        u16le(&mut out, 0);
        u16le(&mut out, 0);
        u16le(&mut out, self.entries);
        u16le(&mut out, self.entries);
        u32le(&mut out, size);
        u32le(&mut out, offset);
        u16le(&mut out, 0);
        Ok(out)
    }
}

/// What a timeline item, as an export shows it, hashes to: its own `hash` unless its
/// payload was withheld or redacted for the exporter.
pub fn item_hash(case_id: &str, row: &serde_json::Value) -> String {
    crate::audit::hash_of(
        case_id,
        row["seq"].as_i64().unwrap_or(-1),
        row["event"].as_str().unwrap_or(""),
        row["from"].as_str(),
        row["to"].as_str().unwrap_or(""),
        row["actor"]["id"].as_str().unwrap_or(""),
        row["actor"]["role"].as_str().unwrap_or(""),
        &row["payload"].to_string(),
        row["at"].as_str().unwrap_or(""),
        row["prev_hash"].as_str().unwrap_or(""),
    )
}

/// The path of a file in the archive: its timeline row, then its name.
pub fn file_path(seq: i64, filename: &str) -> String {
    format!("files/{seq:04}-{filename}")
}
