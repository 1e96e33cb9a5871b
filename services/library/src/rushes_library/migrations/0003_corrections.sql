-- Reviewers' corrections of AI values: the feedback data set (`rushes feedback export`).
-- Append-only like the audit log: a correction of a correction is a new row.
CREATE TABLE corrections (
    seq            bigserial PRIMARY KEY,
    correction_id  text NOT NULL UNIQUE,
    asset_id       text COLLATE "C" NOT NULL REFERENCES assets (asset_id),
    project        text NOT NULL DEFAULT '',
    corrected_at   timestamptz NOT NULL DEFAULT now(),
    record         jsonb NOT NULL
);
CREATE INDEX corrections_by_project ON corrections (project, seq);

CREATE TRIGGER corrections_append_only
    BEFORE UPDATE OR DELETE ON corrections
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER corrections_no_truncate
    BEFORE TRUNCATE ON corrections
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON corrections FROM PUBLIC;
