//! The one schema both backends share (see `migrations/sqlite` and `migrations/postgres`).
//! Checked by the migration tests, which run every query against both databases.

diesel::table! {
    people (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        roles -> Text,
        org -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        workflow -> Text,
        state -> Text,
        version -> BigInt,
        subject_id -> Text,
        subject_name -> Text,
        subject_email -> Text,
        subject_org -> Text,
        subject_position -> Text,
        applicant_id -> Text,
        applicant_name -> Text,
        applicant_email -> Text,
        applicant_role -> Text,
        investigator_id -> Nullable<Text>,
        decider_id -> Nullable<Text>,
        title -> Text,
        overdue -> Bool,
        catalogue_version -> Text,
        data -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        audit_head -> Text,
        disclosed -> Bool,
        outcome -> Nullable<Text>,
        talk_state -> Nullable<Text>,
    }
}

diesel::table! {
    /// What a list's `q` searches, one row per case, written when it is filed (on SQLite
    /// also a column `n`, which its full-text index `case_search_fts` refers to).
    case_search (case_id) {
        case_id -> Text,
        text -> Text,
    }
}

diesel::table! {
    transitions (case_id, seq) {
        case_id -> Text,
        seq -> BigInt,
        event -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        actor_id -> Text,
        actor_role -> Text,
        payload -> Text,
        at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
        stage_seconds -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        case_id -> Text,
        seq -> BigInt,
        recipient_id -> Nullable<Text>,
        recipient_name -> Text,
        recipient_email -> Text,
        relation -> Text,
        template -> Text,
        subject -> Text,
        body_text -> Text,
        message_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        body_html -> Text,
    }
}

diesel::table! {
    idempotency_keys (caller_id, key) {
        caller_id -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    timers (id) {
        id -> Text,
        case_id -> Text,
        kind -> Text,
        name -> Text,
        due_at -> Timestamp,
        state -> Text,
        lease_until -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
        fired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// A file's bytes, once per case and content: chunks in `blob_chunks`.
    blobs (id) {
        id -> Text,
        case_id -> Text,
        sealed -> Bool,
        complete -> Bool,
        sha256 -> Nullable<Text>,
        crc32 -> Nullable<BigInt>,
        size -> BigInt,
        chunks -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blob_chunks (blob_id, seq) {
        blob_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    /// One upload: a name, a media type and a visibility for a blob of the case.
    attachments (id) {
        id -> Text,
        case_id -> Text,
        blob_id -> Text,
        seq -> BigInt,
        filename -> Text,
        media_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        visibility -> Text,
        uploaded_by -> Text,
        uploaded_role -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    /// Notes on a case; each is also its timeline row `seq`.
    notes (case_id, seq) {
        case_id -> Text,
        seq -> BigInt,
        body -> Text,
        visibility -> Text,
        author_id -> Text,
        author_role -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    /// The web console's sessions, by the hash of their secret.
    console_sessions (id_hash) {
        id_hash -> Text,
        person_id -> Text,
        claims -> Text,
        csrf -> Text,
        created_at -> Timestamp,
        seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One-time sign-in links.
    login_links (token_hash) {
        token_hash -> Text,
        claims -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(timers -> cases (case_id));
diesel::joinable!(transitions -> cases (case_id));
diesel::joinable!(outbox -> cases (case_id));
diesel::joinable!(case_search -> cases (case_id));
diesel::joinable!(attachments -> blobs (blob_id));
diesel::joinable!(blob_chunks -> blobs (blob_id));
diesel::allow_tables_to_appear_in_same_query!(
    people,
    cases,
    case_search,
    transitions,
    outbox,
    idempotency_keys,
    timers,
    blobs,
    blob_chunks,
    attachments,
    notes,
    console_sessions,
    login_links
);
