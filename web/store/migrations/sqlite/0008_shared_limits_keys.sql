-- 0008: tables for several replicas sharing one database. A SQLite
-- database serves one process, which keeps its rate limit in memory and its
-- erased-identifier key in DATA_DIR; the tables exist so that both
-- dialects carry the same schema versions.
CREATE TABLE rate_buckets (
    key_hash      TEXT PRIMARY KEY,
    tat           TEXT NOT NULL DEFAULT '',
    blocked_until TEXT NOT NULL DEFAULT '',
    last_wait     REAL NOT NULL DEFAULT 0,
    prev_tat      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE shared_keys (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
