-- 0008: the Dixa rate limit shared by every replica, one row per API token
-- (keyed by a hash of the token, never the token): GCRA's theoretical
-- arrival time, the block a 429 imposes on everyone, and the wait and the
-- previous arrival time of the last reservation (returned by the reserving
-- UPDATE itself: a changed tat means the slot was granted). And keys that
-- every replica must share, such as the erased-identifier key.
CREATE TABLE rate_buckets (
    key_hash      TEXT PRIMARY KEY,
    tat           TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    blocked_until TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    last_wait     DOUBLE PRECISION NOT NULL DEFAULT 0,
    prev_tat      TIMESTAMPTZ NOT NULL DEFAULT 'epoch'
);

CREATE TABLE shared_keys (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
