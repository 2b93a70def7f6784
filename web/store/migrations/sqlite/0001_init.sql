-- 0001: erasure requests, the hash-chained audit log, and import jobs.
-- Times are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z
-- (sortable, identical in both databases); dates are YYYY-MM-DD.

CREATE TABLE erasures (
    id                    TEXT PRIMARY KEY,
    subject_id            TEXT NOT NULL,
    state                 TEXT NOT NULL,
    reference             TEXT NOT NULL,
    reason                TEXT NOT NULL,
    received_at           TEXT NOT NULL,
    deadline              TEXT NOT NULL,
    force                 INTEGER NOT NULL DEFAULT 0,
    force_reason          TEXT NOT NULL DEFAULT '',
    conversation_count    INTEGER NOT NULL DEFAULT 0,
    requested_by_id       TEXT NOT NULL,
    requested_by_name     TEXT NOT NULL,
    requested_at          TEXT NOT NULL,
    decided_by_id         TEXT NOT NULL DEFAULT '',
    decided_by_name       TEXT NOT NULL DEFAULT '',
    decided_at            TEXT NOT NULL DEFAULT '',
    decision_comment      TEXT NOT NULL DEFAULT '',
    submitted_at          TEXT NOT NULL DEFAULT '',
    dixa_request_id       TEXT NOT NULL DEFAULT '',
    processed_at          TEXT NOT NULL DEFAULT '',
    verified_at           TEXT NOT NULL DEFAULT '',
    blocked_conversations TEXT NOT NULL DEFAULT '',
    failure               TEXT NOT NULL DEFAULT '',
    extended_at           TEXT NOT NULL DEFAULT '',
    extended_by_id        TEXT NOT NULL DEFAULT '',
    extension_reason      TEXT NOT NULL DEFAULT '',
    poll_attempts         INTEGER NOT NULL DEFAULT 0,
    next_poll_at          TEXT NOT NULL DEFAULT '',
    last_checked_at       TEXT NOT NULL DEFAULT '',
    updated_at            TEXT NOT NULL
);
CREATE INDEX erasures_state ON erasures (state, next_poll_at);
CREATE INDEX erasures_subject ON erasures (subject_id);

-- Keyed hashes (HMAC) of the erased person's normalised identifiers, for a
-- later "was this person erased?" check without keeping the identifiers.
CREATE TABLE erasure_identifiers (
    erasure_id TEXT NOT NULL REFERENCES erasures (id),
    digest     TEXT NOT NULL,
    PRIMARY KEY (erasure_id, digest)
);
CREATE INDEX erasure_identifiers_digest ON erasure_identifiers (digest);

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL UNIQUE,
    ts             TEXT NOT NULL,
    actor_id       TEXT NOT NULL,
    actor_name     TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    actor_via      TEXT NOT NULL,
    session_hash   TEXT NOT NULL,
    action         TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    details        TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    entry_hash     TEXT NOT NULL
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    total_rows    INTEGER NOT NULL DEFAULT 0,
    ok_rows       INTEGER NOT NULL DEFAULT 0,
    failed_rows   INTEGER NOT NULL DEFAULT 0,
    skipped_rows  INTEGER NOT NULL DEFAULT 0,
    params        TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    started_at    TEXT NOT NULL DEFAULT '',
    finished_at   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE job_rows (
    job_id   TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    row_no   INTEGER NOT NULL,
    outcome  TEXT NOT NULL,
    dixa_id  TEXT NOT NULL DEFAULT '',
    error    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, row_no)
);
