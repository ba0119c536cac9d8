//! Turning an `Authorization` header into an [`Actor`], and learning callers into the
//! directory. No actix here: the extractor in `http/` calls [`Authenticator::authenticate`].

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::keys::Keys;
use crate::db::models::PersonRow;
use crate::db::{Db, DbError, repo};
use crate::domain::Actor;
use crate::error::{AppError, ErrorKind};

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller(pub Actor);

#[derive(Clone)]
pub struct Authenticator {
    keys: Arc<Keys>,
    db: Db,
    /// Callers already written to the directory by this process, by a hash of their claims.
    seen: Arc<Mutex<HashMap<String, u64>>>,
    limiter: Arc<crate::ratelimit::RateLimiter>,
}

fn unauthorized(why: &str) -> AppError {
    AppError::new(
        ErrorKind::Unauthorized,
        format!("a valid bearer token is required: {why}"),
    )
}

fn fingerprint(a: &Actor) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&a.name, &a.email, &a.roles, a.org.as_str()).hash(&mut h);
    h.finish()
}

/// Roles as stored in `people.roles`: `,cadre,reviewer,`.
pub fn roles_column(actor: &Actor) -> String {
    let mut s = String::from(",");
    for r in &actor.roles {
        s.push_str(r.as_str());
        s.push(',');
    }
    s
}

impl Authenticator {
    pub fn new(keys: Arc<Keys>, db: Db) -> Self {
        Authenticator {
            keys,
            db,
            seen: Arc::new(Mutex::new(HashMap::new())),
            limiter: Arc::new(crate::ratelimit::RateLimiter::new(0)),
        }
    }

    /// At most `per_minute` requests per caller (0: no limit); more get 429.
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.limiter = Arc::new(crate::ratelimit::RateLimiter::new(per_minute));
        self
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller, AppError> {
        let header = header.ok_or_else(|| unauthorized("no Authorization header"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?
            .trim();
        let claims = self.keys.verify(token).map_err(|why| unauthorized(&why))?;
        let actor = claims.to_actor().map_err(|why| unauthorized(&why))?;
        if let Err(wait) = self.limiter.check(&actor.id) {
            let mut e = AppError::new(
                ErrorKind::TooManyRequests,
                format!("too many requests from {}; try again in {wait} s", actor.id),
            );
            e.retry_after = Some(wait);
            return Err(e);
        }
        self.learn(&actor).await?;
        Ok(Caller(actor))
    }

    /// Writes the caller into the directory when this process has not seen these claims.
    async fn learn(&self, actor: &Actor) -> Result<(), AppError> {
        let fp = fingerprint(actor);
        let known = self
            .seen
            .lock()
            .map(|m| m.get(&actor.id) == Some(&fp))
            .unwrap_or(false);
        if known {
            return Ok(());
        }
        let row = PersonRow {
            id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            roles: roles_column(actor),
            org: actor.org.as_str().to_string(),
            source: "token".into(),
            updated_at: crate::time::now_micros(),
        };
        self.db
            .write(move |conn| repo::people::upsert(conn, &row).map_err(DbError::from))
            .await
            .map_err(AppError::from)?;
        if let Ok(mut m) = self.seen.lock() {
            m.insert(actor.id.clone(), fp);
        }
        Ok(())
    }
}
