-- 0005: an erasure whose anonymize call may have reached Dixa without the
-- console learning the outcome (checked in Dixa before any further call),
-- and the sealed identifiers of a person to scrub from the console's own
-- records once their erasure is verified (AES-GCM, key outside the
-- database; deleted after the scrub).
ALTER TABLE erasures ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;

CREATE TABLE erasure_scrub (
    erasure_id TEXT PRIMARY KEY REFERENCES erasures (id),
    sealed     TEXT NOT NULL
);
