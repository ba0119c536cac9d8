//! The web console's sign-ins: one-time links (development) that open a session, and the
//! sessions themselves: a random secret in an HttpOnly cookie, stored only as its SHA-256,
//! with a CSRF token, an idle timeout and an absolute one, revocable. No actix here: the
//! console in `http/` reads the cookie and calls [`Sessions`].

use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use chrono::Duration;
use sha2::{Digest, Sha256};

use super::Claims;
use crate::clock::Clock;
use crate::db::repo::sessions::{self, SessionRow};
use crate::db::{Db, DbError};
use crate::domain::Actor;
use crate::error::{AppError, ErrorKind};

/// 32 random bytes, hex.
fn secret() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A signed-in caller: who, and the token their forms must carry.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
}

#[derive(Clone)]
pub struct Sessions {
    pub db: Db,
    pub clock: Clock,
    pub idle: Duration,
    pub absolute: Duration,
    pub link_ttl: Duration,
}

impl Sessions {
    /// A one-time link's secret for `claims` (its identity; `exp` and `iat` are ignored).
    pub fn login_link(&self, claims: &Claims) -> Result<String, AppError> {
        claims
            .to_actor()
            .map_err(|e| AppError::validation("claims", e))?;
        let token = secret();
        let now = self.clock.now().naive_utc();
        let json = serde_json::to_string(claims).map_err(|e| AppError::internal(e.to_string()))?;
        let (hash, until) = (digest(&token), now + self.link_ttl);
        self.db.write_blocking(|c| {
            sessions::insert_link(c, &hash, &json, now, until).map_err(DbError::from)
        })?;
        Ok(token)
    }

    /// Uses a link: a new session's secret, or 401 for a link unknown, used or expired.
    pub async fn redeem(&self, link: &str) -> Result<String, AppError> {
        let now = crate::time::truncate_micros(self.clock.now().naive_utc());
        let hash = digest(link);
        let claims = self
            .db
            .write(move |c| sessions::consume_link(c, &hash, now).map_err(AppError::from))
            .await?
            .ok_or_else(|| {
                AppError::new(
                    ErrorKind::Unauthorized,
                    "this sign-in link is unknown, was used already, or has expired",
                )
            })?;
        let parsed: Claims =
            serde_json::from_str(&claims).map_err(|e| AppError::internal(e.to_string()))?;
        let actor = parsed
            .to_actor()
            .map_err(|e| AppError::new(ErrorKind::Unauthorized, e))?;
        let secret = secret();
        let row = SessionRow {
            id_hash: digest(&secret),
            person_id: actor.id.clone(),
            claims,
            csrf: self::secret(),
            created_at: now,
            seen_at: now,
            expires_at: now + self.absolute,
            revoked_at: None,
        };
        self.db
            .write(move |c| sessions::insert_session(c, &row).map_err(AppError::from))
            .await?;
        Ok(secret)
    }

    /// The session a cookie's secret names, if it is live; marks it used.
    pub async fn resolve(&self, secret: &str) -> Result<Option<Session>, AppError> {
        let now = crate::time::truncate_micros(self.clock.now().naive_utc());
        let hash = digest(secret);
        let found = {
            let hash = hash.clone();
            self.db
                .read(move |c| sessions::find_session(c, &hash).map_err(AppError::from))
                .await?
        };
        let Some(row) = found else { return Ok(None) };
        if row.revoked_at.is_some() || row.expires_at <= now || row.seen_at + self.idle <= now {
            return Ok(None);
        }
        let claims: Claims =
            serde_json::from_str(&row.claims).map_err(|e| AppError::internal(e.to_string()))?;
        let Ok(actor) = claims.to_actor() else {
            return Ok(None);
        };
        // The idle timeout runs from the last use; a write a minute at most.
        if now - row.seen_at > Duration::seconds(60) {
            self.db
                .write(move |c| sessions::touch(c, &hash, now).map_err(AppError::from))
                .await?;
        }
        Ok(Some(Session {
            actor,
            csrf: row.csrf,
        }))
    }

    /// Ends the session a cookie's secret names.
    pub async fn revoke(&self, secret: &str) -> Result<(), AppError> {
        let now = self.clock.now().naive_utc();
        let hash = digest(secret);
        self.db
            .write(move |c| sessions::revoke(c, &hash, now).map_err(AppError::from))
            .await
    }
}
