-- Stage outputs beyond ingest (shots and tags, transcript, picks, grades, QC...) as the asset
-- record's own JSON sections, keyed by the rushes.asset.v1.Asset field name. Each stage's rule
-- replaces its sections whole; older versions stay in the audit log's event data.
ALTER TABLE assets ADD COLUMN sections jsonb NOT NULL DEFAULT '{}'::jsonb;
