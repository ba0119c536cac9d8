-- Core tables. Ids and JSON are TEXT, times are UTC TIMESTAMP (microseconds),
-- so one diesel schema serves SQLite and PostgreSQL.
CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    roles TEXT NOT NULL,            -- ",cadre,reviewer," so LIKE '%,reviewer,%' finds a role
    org TEXT NOT NULL,
    source TEXT NOT NULL,           -- 'token' or 'admin'
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX people_org ON people (org);

CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    workflow TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    subject_email TEXT NOT NULL,
    subject_org TEXT NOT NULL,
    subject_position TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_email TEXT NOT NULL,
    applicant_role TEXT NOT NULL,
    investigator_id TEXT,
    decider_id TEXT,
    title TEXT NOT NULL,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    catalogue_version TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_workflow_created ON cases (workflow, created_at DESC, id DESC);
CREATE INDEX cases_workflow_state_created ON cases (workflow, state, created_at DESC, id DESC);
CREATE INDEX cases_workflow_org_created ON cases (workflow, subject_org, created_at DESC, id DESC);
CREATE INDEX cases_subject_created ON cases (subject_id, created_at DESC, id DESC);
CREATE INDEX cases_applicant_created ON cases (applicant_id, created_at DESC, id DESC);

-- Append-only audit: one row per transition, hash-chained per case.
CREATE TABLE transitions (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Transactional outbox: written with the transition, delivered after commit.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    recipient_id TEXT,
    recipient_name TEXT NOT NULL,
    recipient_email TEXT NOT NULL,
    relation TEXT NOT NULL,
    template TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_id, seq);

CREATE TABLE idempotency_keys (
    caller_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (caller_id, key)
);

CREATE FUNCTION transitions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'transitions are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER transitions_no_change BEFORE UPDATE OR DELETE ON transitions
FOR EACH ROW EXECUTE FUNCTION transitions_append_only();
