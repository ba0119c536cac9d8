//! What one request writes, decided before any lock is taken, and how it is written: one
//! guarded statement on PostgreSQL where it fits (`repo::step`), row by row otherwise.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::models::{
    AttachmentRow, BlobRow, CaseRow, IdempotencyRow, NoteRow, OutboxRow, TimerRow, TransitionRow,
};
use crate::db::{DbConnection, DbError, repo};
use crate::domain::Refusal;
use crate::error::AppError;

/// Errors inside a write transaction: a real error, or "lost a race: run again".
pub(super) enum TxError {
    App(AppError),
    Retry,
}

impl From<AppError> for TxError {
    fn from(e: AppError) -> Self {
        TxError::App(e)
    }
}

impl From<Refusal> for TxError {
    fn from(r: Refusal) -> Self {
        TxError::App(r.into())
    }
}

impl From<DbError> for TxError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(q) => q.into(),
            other => TxError::App(other.into()),
        }
    }
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        match e {
            // Another writer inserted the same key first (PostgreSQL): re-read and decide again.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => TxError::Retry,
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                TxError::Retry
            }
            other => TxError::App(other.into()),
        }
    }
}

pub(super) const ATTEMPTS: usize = 5;

/// The rows one step writes. They are decided on a read connection, outside any lock, and
/// written in one short transaction that first checks the case is still at the version the
/// decision was made on: a writer that lost the race decides again on fresh data.
#[derive(Default)]
pub(super) struct Writes {
    /// The case's new row and the version it must still be at.
    pub(super) update: Option<(CaseRow, i64)>,
    /// Cases filed, each with the text `q` searches.
    pub(super) cases: Vec<(CaseRow, String)>,
    pub(super) transitions: Vec<TransitionRow>,
    pub(super) outbox: Vec<OutboxRow>,
    /// Pending timers made moot: (id, when, why).
    pub(super) cancel_timers: Vec<(String, chrono::NaiveDateTime, &'static str)>,
    pub(super) timers: Vec<TimerRow>,
    pub(super) idempotency: Option<IdempotencyRow>,
    /// What an upload or a note adds beside its timeline row.
    pub(super) material: Vec<Material>,
}

/// Rows of evidence files and notes, written after the timeline row that records them.
pub(super) enum Material {
    /// An upload's blob, now complete (its content was not stored in the case before).
    Complete(BlobRow),
    /// An upload whose content the case already holds: its chunks go.
    Discard(String),
    Attachment(AttachmentRow),
    Note(NoteRow),
}

impl Writes {
    /// On PostgreSQL, writes that fit one statement (see `repo::step`): a step that moves
    /// one case and files none, or nothing at all (a replayed answer).
    pub(super) fn one_statement(&self) -> bool {
        let nothing = self.transitions.is_empty()
            && self.outbox.is_empty()
            && self.cancel_timers.is_empty()
            && self.timers.is_empty()
            && self.idempotency.is_none();
        self.cases.is_empty() && self.material.is_empty() && (self.update.is_some() || nothing)
    }

    pub(super) fn write(&self, conn: &mut DbConnection) -> Result<(), TxError> {
        if let (DbConnection::Pg(pg), Some((case, expected))) = (&mut *conn, &self.update)
            && self.cases.is_empty()
            && self.material.is_empty()
        {
            let written = repo::step::StepWrites {
                case,
                expected_version: *expected,
                transitions: &self.transitions,
                outbox: &self.outbox,
                cancel_timers: &self.cancel_timers,
                timers: &self.timers,
                idempotency: self.idempotency.as_ref(),
            }
            .run(pg)?;
            return if written { Ok(()) } else { Err(TxError::Retry) };
        }
        if let Some((row, expected)) = &self.update
            && !repo::cases::update_guarded(conn, row, *expected)?
        {
            return Err(TxError::Retry);
        }
        for (c, text) in &self.cases {
            repo::cases::insert(conn, c, text)?;
        }
        for t in &self.transitions {
            repo::transitions::insert(conn, t)?;
        }
        repo::outbox::insert_all(conn, &self.outbox)?;
        for (id, at, why) in &self.cancel_timers {
            repo::timers::cancel(conn, id, *at, why)?;
        }
        for t in &self.timers {
            repo::timers::insert(conn, t)?;
        }
        if let Some(row) = &self.idempotency {
            repo::idempotency::insert(conn, row)?;
        }
        for m in &self.material {
            match m {
                Material::Complete(blob) => {
                    if !repo::files::complete(conn, blob)? {
                        return Err(TxError::App(AppError::new(
                            crate::error::ErrorKind::Unavailable,
                            "the upload was abandoned (it took too long); send the file again",
                        )));
                    }
                }
                Material::Discard(id) => repo::files::discard(conn, id)?,
                Material::Attachment(row) => repo::files::insert_attachment(conn, row)?,
                Material::Note(row) => repo::files::insert_note(conn, row)?,
            }
        }
        Ok(())
    }
}
