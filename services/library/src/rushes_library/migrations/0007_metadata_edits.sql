-- Editors set the asset's taxonomy tags (UpdateMetadata): the descriptive view shows them.
-- Who changed what, old and new, is in audit_log (event type rushes.v1.asset.metadata_updated).
CREATE OR REPLACE VIEW asset_descriptive AS
SELECT asset_id,
       project,
       descriptive ->> 'title'            AS title,
       descriptive ->> 'description'      AS description,
       COALESCE(descriptive -> 'keywords', '[]'::jsonb) AS keywords,
       sections ->> 'tag_preset'          AS tag_preset,
       (sections ->> 'tags_version')::integer AS tags_version,
       sections -> 'transcript' ->> 'text' AS transcript,
       COALESCE(descriptive -> 'tags', '[]'::jsonb) AS tags
FROM assets;
