-- 0007: what several replicas share: sign-in sessions and sign-ins in
-- progress (keyed by a hash of the cookie's id, the record sealed with a key
-- derived from the id), spent one-time form tokens with their outcome, and
-- named leases of background work (expiry on the database's clock).
CREATE TABLE sessions (
    key        TEXT PRIMARY KEY,
    sealed     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
CREATE INDEX sessions_last_seen ON sessions (last_seen);
CREATE INDEX sessions_created_at ON sessions (created_at);

CREATE TABLE oidc_pending (
    key        TEXT PRIMARY KEY,
    sealed     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX oidc_pending_expires_at ON oidc_pending (expires_at);

CREATE TABLE form_tokens (
    key        TEXT PRIMARY KEY,
    state      INTEGER NOT NULL,
    result     TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL
);
CREATE INDEX form_tokens_expires_at ON form_tokens (expires_at);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
