-- 0009: the read cache's write counts, for several replicas sharing one
-- database. A SQLite database serves one process, whose cache drops what a
-- write touches at once; the table exists so that both dialects carry the
-- same schema versions.
CREATE TABLE cache_versions (
    owner   TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    erased  INTEGER NOT NULL DEFAULT 0
);
