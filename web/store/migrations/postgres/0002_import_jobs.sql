-- 0002: what the bulk import runner needs (handlers/bulk): a lease on a
-- job so that one runner works on it, and per row the item to send, the
-- dry run's problem, the batch a row is in flight in (re-checked after a
-- crash before anything is resent), and whether its custom attributes are
-- still to be set.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_state ON jobs (state, created_at);

ALTER TABLE job_rows ADD COLUMN payload TEXT NOT NULL DEFAULT '';
ALTER TABLE job_rows ADD COLUMN problem TEXT NOT NULL DEFAULT '';
ALTER TABLE job_rows ADD COLUMN problem_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE job_rows ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_rows ADD COLUMN attrs_pending INTEGER NOT NULL DEFAULT 0;
-- The rows still to send, so that each batch does not scan the done ones.
CREATE INDEX job_rows_open ON job_rows (job_id, row_no) WHERE outcome = '' AND problem = '';
