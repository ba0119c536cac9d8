//! `rongcuo verify-export FILE`: checks a case file offline, reading it once, front to back.
//!
//! - Every byte of the archive's structure has one allowed value or one that follows from
//!   the rest (the canonical form of [`super::ZipWriter`]): a changed header byte is named
//!   with its entry and its offset.
//! - Every entry's bytes match the CRC-32 of its header and the size and SHA-256 the
//!   manifest lists (the manifest's own bytes are held by its CRC-32).
//! - The timeline's rows form the case's audit chain: numbered from 1, each linked to the
//!   hash of the one before, each row shown whole hashing to its own hash, the last one the
//!   manifest's `audit_head`; rows whose payload was withheld from the exporter are linked,
//!   not recomputed (they say so).

use std::io::Read;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    CENTRAL, CENTRAL_HEADER, DOS_DATE, DOS_TIME, END, END_RECORD, LOCAL, LOCAL_HEADER, MANIFEST,
    Manifest, UTF8, VERSION,
};
use crate::audit::GENESIS;

/// The JSON entries are read whole (the files are only hashed): at most this many bytes.
const MAX_JSON: u64 = 256 * 1024 * 1024;

/// What a sound archive holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub case_id: String,
    pub entries: usize,
    pub files: usize,
    pub rows: usize,
    pub redacted: usize,
    pub audit_head: String,
}

struct Seen {
    name: String,
    offset: u64,
    crc: u32,
    size: u64,
    sha256: String,
    json: Option<Vec<u8>>,
}

/// Reads the archive's bytes, counting where it is.
struct At<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> At<R> {
    fn bytes(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.inner.read_exact(&mut buf)?;
        self.pos += n as u64;
        Ok(buf)
    }
}

fn u16at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Checks the archive read from `input`; what it holds, or every problem found (each
/// naming the entry, and the offset where it is in the archive's structure).
pub fn verify(input: impl Read) -> Result<Summary, Vec<String>> {
    let mut r = At {
        inner: std::io::BufReader::with_capacity(256 * 1024, input),
        pos: 0,
    };
    let mut problems = Vec::new();
    let entries = match read_entries(&mut r, &mut problems) {
        Ok(e) => e,
        Err(e) => {
            problems.push(e);
            return Err(problems);
        }
    };
    check_contents(&entries, &mut problems).map_err(|_| problems)
}

/// The local entries, then the central directory and the end record, as written.
fn read_entries<R: Read>(r: &mut At<R>, problems: &mut Vec<String>) -> Result<Vec<Seen>, String> {
    let damaged = |pos: u64, what: &str, e: std::io::Error| {
        format!("the archive is damaged at byte {pos} ({what}): {e}")
    };
    let mut entries: Vec<Seen> = Vec::new();
    let first_central;
    loop {
        let at = r.pos;
        let sig = r.bytes(4).map_err(|e| damaged(at, "a header", e))?;
        let sig = u32at(&sig, 0);
        if sig == CENTRAL {
            first_central = at;
            break;
        }
        if sig != LOCAL {
            return Err(format!(
                "the archive is damaged at byte {at}: not an entry's header (after {})",
                entries
                    .last()
                    .map(|e| e.name.as_str())
                    .unwrap_or("the start")
            ));
        }
        let h = r
            .bytes(LOCAL_HEADER - 4)
            .map_err(|e| damaged(at, "an entry's header", e))?;
        let (crc, csize, usize_, nlen, xlen) = (
            u32at(&h, 10),
            u32at(&h, 14),
            u32at(&h, 18),
            u16at(&h, 22),
            u16at(&h, 24),
        );
        let name_bytes = r
            .bytes(nlen as usize)
            .map_err(|e| damaged(at, "an entry's name", e))?;
        let name = String::from_utf8_lossy(&name_bytes).to_string();
        let fixed = [
            (u16at(&h, 0), VERSION, "version"),
            (u16at(&h, 2), UTF8, "flags"),
            (u16at(&h, 4), 0, "method"),
            (u16at(&h, 6), DOS_TIME, "time"),
            (u16at(&h, 8), DOS_DATE, "date"),
            (xlen, 0, "extra field length"),
        ];
        for (got, want, field) in fixed {
            if got != want {
                problems.push(format!(
                    "{name}: its header's {field} (at byte {at}) was changed ({got:#06x}, not {want:#06x})"
                ));
            }
        }
        if csize != usize_ {
            problems.push(format!(
                "{name}: its header's sizes (at byte {at}) disagree ({csize} and {usize_})"
            ));
        }
        let size = u64::from(usize_);
        let keep = name.ends_with(".json") && !name.starts_with("files/") && size <= MAX_JSON;
        let mut json = keep.then(Vec::new);
        let mut sha = Sha256::new();
        let mut crc32 = crc32fast::Hasher::new();
        let mut left = size;
        let mut buf = vec![0u8; 256 * 1024];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            r.inner
                .read_exact(&mut buf[..n])
                .map_err(|e| damaged(r.pos, &format!("the bytes of {name}"), e))?;
            r.pos += n as u64;
            sha.update(&buf[..n]);
            crc32.update(&buf[..n]);
            if let Some(j) = &mut json {
                j.extend_from_slice(&buf[..n]);
            }
            left -= n as u64;
        }
        if crc32.finalize() != crc {
            problems.push(format!(
                "{name}: its bytes were changed (they do not match the CRC-32 of its header at byte {at})"
            ));
        }
        entries.push(Seen {
            name,
            offset: at,
            crc,
            size,
            sha256: hex::encode(sha.finalize()),
            json,
        });
    }
    // The central directory: one record per entry, repeating its header.
    let mut at = first_central;
    let mut records = 0usize;
    loop {
        let c = if records == 0 {
            let mut c = CENTRAL.to_le_bytes().to_vec();
            c.extend(
                r.bytes(CENTRAL_HEADER - 4)
                    .map_err(|e| damaged(at, "the central directory", e))?,
            );
            c
        } else {
            let sig = r
                .bytes(4)
                .map_err(|e| damaged(at, "the central directory", e))?;
            if u32at(&sig, 0) == END {
                break;
            }
            if u32at(&sig, 0) != CENTRAL {
                return Err(format!(
                    "the archive is damaged at byte {at}: not a central directory record"
                ));
            }
            let mut c = sig;
            c.extend(
                r.bytes(CENTRAL_HEADER - 4)
                    .map_err(|e| damaged(at, "the central directory", e))?,
            );
            c
        };
        let nlen = u16at(&c, 28) as usize;
        let name = r
            .bytes(nlen)
            .map_err(|e| damaged(at, "the central directory", e))?;
        let e = entries.get(records);
        let label = e
            .map(|e| e.name.clone())
            .unwrap_or_else(|| "(no entry)".into());
        let want: Option<[(u64, u64, &str); 14]> = e.map(|e| {
            [
                (u16at(&c, 4).into(), VERSION.into(), "version made by"),
                (u16at(&c, 6).into(), VERSION.into(), "version"),
                (u16at(&c, 8).into(), UTF8.into(), "flags"),
                (u16at(&c, 10).into(), 0, "method"),
                (u16at(&c, 12).into(), DOS_TIME.into(), "time"),
                (u16at(&c, 14).into(), DOS_DATE.into(), "date"),
                (u32at(&c, 16).into(), e.crc.into(), "CRC-32"),
                (u32at(&c, 20).into(), e.size, "compressed size"),
                (u32at(&c, 24).into(), e.size, "size"),
                (u16at(&c, 30).into(), 0, "extra field length"),
                (u16at(&c, 32).into(), 0, "comment length"),
                (u16at(&c, 34).into(), 0, "disk"),
                (
                    u64::from(u16at(&c, 36)) | u64::from(u32at(&c, 38)) << 16,
                    0,
                    "attributes",
                ),
                (u32at(&c, 42).into(), e.offset, "offset"),
            ]
        });
        match want {
            None => problems.push(format!(
                "the central directory (at byte {at}) lists an entry the archive does not have"
            )),
            Some(fields) => {
                for (got, want, field) in fields {
                    if got != want {
                        problems.push(format!(
                            "{label}: its central directory record's {field} (at byte {at}) was changed"
                        ));
                    }
                }
                if name != label.as_bytes() {
                    problems.push(format!(
                        "{label}: its central directory record (at byte {at}) names another entry"
                    ));
                }
            }
        }
        records += 1;
        at = r.pos;
    }
    let end_at = r.pos - 4;
    let end = r
        .bytes(END_RECORD - 4)
        .map_err(|e| damaged(end_at, "the end record", e))?;
    let n = entries.len() as u64;
    let fields: [(u64, u64, &str); 7] = [
        (u16at(&end, 0).into(), 0, "disk"),
        (u16at(&end, 2).into(), 0, "directory's disk"),
        (u16at(&end, 4).into(), n, "entries on this disk"),
        (u16at(&end, 6).into(), n, "entries"),
        (
            u32at(&end, 8).into(),
            end_at - first_central,
            "directory size",
        ),
        (u32at(&end, 12).into(), first_central, "directory offset"),
        (u16at(&end, 16).into(), 0, "comment length"),
    ];
    for (got, want, field) in fields {
        if got != want {
            problems.push(format!(
                "the end record's {field} (at byte {end_at}) was changed"
            ));
        }
    }
    if records != entries.len() {
        problems.push(format!(
            "the central directory lists {records} entries, the archive has {}",
            entries.len()
        ));
    }
    let mut rest = Vec::new();
    r.inner
        .read_to_end(&mut rest)
        .map_err(|e| damaged(r.pos, "the end", e))?;
    if !rest.is_empty() {
        problems.push(format!(
            "{} bytes follow the end record (at byte {})",
            rest.len(),
            r.pos
        ));
    }
    Ok(entries)
}

/// The manifest against the entries, and the chain against itself.
fn check_contents(entries: &[Seen], problems: &mut Vec<String>) -> Result<Summary, ()> {
    let json = |name: &str| -> Option<Value> {
        entries
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.json.as_ref())
            .and_then(|b| serde_json::from_slice(b).ok())
    };
    let Some(last) = entries.last().filter(|e| e.name == MANIFEST) else {
        problems.push(format!("the archive does not end with {MANIFEST}"));
        return Err(());
    };
    let manifest: Manifest = match last
        .json
        .as_ref()
        .map(|b| serde_json::from_slice::<Manifest>(b))
    {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            problems.push(format!("{MANIFEST}: not a manifest: {e}"));
            return Err(());
        }
        None => {
            problems.push(format!("{MANIFEST}: too large"));
            return Err(());
        }
    };
    if manifest.format != super::FORMAT {
        problems.push(format!(
            "{MANIFEST}: format `{}` is not {}",
            manifest.format,
            super::FORMAT
        ));
    }
    let body = &entries[..entries.len() - 1];
    for (i, e) in body.iter().enumerate() {
        match manifest.entries.get(i) {
            Some(m) if m.path == e.name => {
                if m.size != e.size || m.sha256 != e.sha256 {
                    problems.push(format!(
                        "{}: its bytes were changed (SHA-256 {}, the manifest says {})",
                        e.name, e.sha256, m.sha256
                    ));
                }
            }
            Some(m) => problems.push(format!(
                "{}: the manifest lists `{}` in its place",
                e.name, m.path
            )),
            None => problems.push(format!("{}: not in the manifest", e.name)),
        }
    }
    for m in manifest.entries.iter().skip(body.len()) {
        problems.push(format!(
            "{}: in the manifest but not in the archive",
            m.path
        ));
    }

    // The chain, as the timeline shows it and as the manifest lists it.
    let rows: Vec<Value> = json("timeline.json")
        .and_then(|t| t.get("items").cloned())
        .and_then(|i| i.as_array().cloned())
        .unwrap_or_else(|| {
            problems.push("timeline.json: not a timeline".into());
            Vec::new()
        });
    let mut prev = GENESIS.to_string();
    let mut redacted = 0;
    for (i, row) in rows.iter().enumerate() {
        let seq = row["seq"].as_i64().unwrap_or(-1);
        let hash = row["hash"].as_str().unwrap_or("");
        let name = format!("timeline.json row {seq}");
        if seq != i as i64 + 1 {
            problems.push(format!("{name}: expected row {} here", i + 1));
        }
        if row["prev_hash"].as_str() != Some(prev.as_str()) {
            problems.push(format!("{name}: not linked to the row before it"));
        }
        let is_redacted = row["redacted"].as_bool().unwrap_or(false);
        if is_redacted {
            redacted += 1;
        } else {
            let recomputed = super::item_hash(&manifest.case_id, row);
            if recomputed != hash {
                problems.push(format!("{name}: its content does not match its hash"));
            }
        }
        match manifest.chain.get(i) {
            Some(l)
                if l.seq == seq
                    && l.hash == hash
                    && Some(l.prev_hash.as_str()) == row["prev_hash"].as_str()
                    && l.redacted == is_redacted
                    && Some(l.event.as_str()) == row["event"].as_str() => {}
            _ => problems.push(format!(
                "{name}: the manifest's chain lists another row in its place"
            )),
        }
        prev = hash.to_string();
    }
    if manifest.chain.len() != rows.len() {
        problems.push(format!(
            "{MANIFEST}: its chain has {} rows, the timeline {}",
            manifest.chain.len(),
            rows.len()
        ));
    }
    if prev != manifest.audit_head {
        problems.push(format!(
            "{MANIFEST}: audit_head is not the hash of the timeline's last row"
        ));
    }
    let case = json("case.json");
    if case.as_ref().and_then(|c| c["id"].as_str()) != Some(manifest.case_id.as_str()) {
        problems.push("case.json: not the case the manifest names".into());
    }
    if case.as_ref().and_then(|c| c["version"].as_i64()) != Some(rows.len() as i64) {
        problems.push("case.json: its version is not the timeline's last row".into());
    }
    if !problems.is_empty() {
        return Err(());
    }
    Ok(Summary {
        case_id: manifest.case_id,
        entries: entries.len(),
        files: entries
            .iter()
            .filter(|e| e.name.starts_with("files/"))
            .count(),
        rows: rows.len(),
        redacted,
        audit_head: manifest.audit_head,
    })
}
