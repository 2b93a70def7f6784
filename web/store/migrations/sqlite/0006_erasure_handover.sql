-- 0006: a GDPR request an agent hands to the leads starts as a draft
-- (state 'draft'; the state column has no CHECK): who handed it over,
-- when, and their note for the lead who completes it.
ALTER TABLE erasures ADD COLUMN handed_over_by_id TEXT NOT NULL DEFAULT '';
ALTER TABLE erasures ADD COLUMN handed_over_by_name TEXT NOT NULL DEFAULT '';
ALTER TABLE erasures ADD COLUMN handed_over_at TEXT NOT NULL DEFAULT '';
ALTER TABLE erasures ADD COLUMN handover_note TEXT NOT NULL DEFAULT '';
