-- The web console's sign-ins. A session is known by the SHA-256 of its cookie's secret
-- (the secret itself is never stored), with the identity it signed in as, its CSRF token,
-- and its idle (seen_at) and absolute (expires_at) timeouts; revoked at sign-out.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX console_sessions_person ON console_sessions (person_id);

-- One-time sign-in links (`rongcuo token … --login-link`, development): by the SHA-256 of
-- their secret, used at most once, before they expire.
CREATE TABLE login_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    claims TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
