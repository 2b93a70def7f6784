-- 0009: the write count of each end user the console wrote ("" counts
-- every write, for the lists and searches), bumped by the writing replica
-- before the write returns; every replica's read cache serves an entry only
-- while the count is the one its fetch began under. erased marks a person
-- whose data no replica may hold again.
CREATE TABLE cache_versions (
    owner   TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    erased  BOOLEAN NOT NULL DEFAULT FALSE
);
