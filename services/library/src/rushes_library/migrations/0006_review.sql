-- Human verdicts on review items (accept / reject / correct), append-only like the audit log.
-- item_id names the value (e.g. "shots/3/values/shot_type"); revision is the fingerprint of the
-- value the reviewer saw (a verdict on a value that changed meanwhile is refused before it lands).
CREATE TABLE review_verdicts (
    seq          bigserial PRIMARY KEY,
    verdict_id   text NOT NULL UNIQUE,
    asset_id     text COLLATE "C" NOT NULL REFERENCES assets (asset_id),
    project      text NOT NULL DEFAULT '',
    item_id      text NOT NULL,
    kind         text NOT NULL,
    verdict      text NOT NULL CHECK (verdict IN ('accepted', 'rejected', 'corrected')),
    revision     text NOT NULL,
    reviewer     text NOT NULL,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    old_value    jsonb,
    new_value    jsonb,
    note         text NOT NULL DEFAULT ''
);
CREATE INDEX review_verdicts_by_asset ON review_verdicts (asset_id, seq);

CREATE TRIGGER review_verdicts_append_only
    BEFORE UPDATE OR DELETE ON review_verdicts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER review_verdicts_no_truncate
    BEFORE TRUNCATE ON review_verdicts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON review_verdicts FROM PUBLIC;

-- The open review queue, derived from the asset record (rebuilt in the same transaction as every
-- change of the asset): AI values below their threshold, QC failures, picks marked for review.
-- Derived, so not append-only; what was decided lives in review_verdicts and the audit log.
CREATE TABLE review_items (
    asset_id    text COLLATE "C" NOT NULL REFERENCES assets (asset_id) ON DELETE CASCADE,
    item_id     text NOT NULL,
    project     text NOT NULL DEFAULT '',
    kind        text NOT NULL,
    confidence  double precision,
    revision    text NOT NULL,
    item        jsonb NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset_id, item_id)
);
CREATE INDEX review_items_by_project ON review_items (project, kind, confidence);
