//! `database.url`: which backend, and where (with any password kept out of messages).

use super::DbError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `database.url`.
#[derive(Clone, Debug)]
pub struct DbUrl {
    pub(super) backend: Backend,
    pub(super) target: String,
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" || path.contains('?') {
                return Err(DbError::Url(
                    "a SQLite URL names a file: sqlite://PATH (relative or absolute)".into(),
                ));
            }
            return Ok(DbUrl {
                backend: Backend::Sqlite,
                target: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(DbError::Url(
                    "a PostgreSQL URL needs a host: postgres://USER@HOST/DB".into(),
                ));
            }
            return Ok(DbUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
            });
        }
        Err(DbError::Url(format!(
            "unsupported scheme in `{}`: use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        )))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password hidden, for logs and messages.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => redact(&self.target),
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            DbUrl::parse("sqlite://data/x.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DbUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DbUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DbUrl::parse("mysql://u@h/db").is_err());
        assert!(DbUrl::parse("data/x.db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn redacts_passwords() {
        let url = DbUrl::parse("postgres://app:s3cret@db.local/rc").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.local/rc");
        let err = DbUrl::parse("mysql://app:s3cret@db/rc")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
