-- The catalog: one row per asset, its stages, and an append-only audit log of every event seen.
-- asset ids compare byte-wise (COLLATE "C") so that prefix lookups ("abcd1234%") use the primary key.

-- Later issues store embeddings here; enabling it now keeps every database on the same footing.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE assets (
    asset_id         text COLLATE "C" PRIMARY KEY CHECK (asset_id <> ''),
    project          text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'processing'
                     CHECK (status IN ('processing', 'complete', 'failed', 'rejected')),
    source           jsonb NOT NULL DEFAULT '{}'::jsonb,
    technical        jsonb NOT NULL DEFAULT '{}'::jsonb,
    objects          jsonb NOT NULL DEFAULT '{}'::jsonb,
    rejection_reason text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination walks (created_at, asset_id) newest first, optionally within a project or status.
CREATE INDEX assets_by_created ON assets (created_at DESC, asset_id DESC);
CREATE INDEX assets_by_project ON assets (project, created_at DESC, asset_id DESC);
CREATE INDEX assets_by_status ON assets (status, created_at DESC, asset_id DESC);

CREATE TABLE asset_stages (
    asset_id    text COLLATE "C" NOT NULL REFERENCES assets (asset_id) ON DELETE CASCADE,
    stage       text NOT NULL CHECK (stage <> ''),
    status      text NOT NULL CHECK (status IN ('pending', 'running', 'complete', 'failed', 'skipped')),
    started_at  timestamptz,
    finished_at timestamptz,
    error       text NOT NULL DEFAULT '',
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    PRIMARY KEY (asset_id, stage)
);

-- No foreign key to assets: the log records events about assets the catalog never created (a
-- dead letter naming an unknown asset) and must outlive any cleanup of asset rows.
CREATE TABLE audit_log (
    seq              bigserial PRIMARY KEY,
    asset_id         text COLLATE "C",
    time             timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    event_type       text NOT NULL,
    event_id         text NOT NULL UNIQUE CHECK (event_id <> ''),
    producer         text NOT NULL DEFAULT '',
    producer_version text NOT NULL DEFAULT '',
    principal        text NOT NULL DEFAULT '',
    trace_id         text NOT NULL DEFAULT '',
    summary          text NOT NULL DEFAULT '',
    data             jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_log_by_asset ON audit_log (asset_id, seq);

-- Append-only, enforced by the database rather than by convention: statement-level triggers fire
-- even when no row matches, so `DELETE FROM audit_log WHERE false` is refused too.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit entries are never changed or removed';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
