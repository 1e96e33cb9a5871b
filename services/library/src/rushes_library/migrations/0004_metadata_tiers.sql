-- The three metadata tiers of the asset record, each readable on its own.
--   structural:     what the file is and where it sits in the shoot (scene, take, timecode, format, camera)
--   descriptive:    what it shows and says (title, description, tags by taxonomy, transcript)
--   administrative: who may use it and how it came to be (rights, licence, access, provenance, version)
-- Stage outputs stay where they are (technical, sections); the new columns hold what no stage
-- produces (scene/take parsed from names or set by people, titles, rights), and the views below
-- present each tier with stable column names. Who changed what is the audit log.
ALTER TABLE assets ADD COLUMN structural jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE assets ADD COLUMN descriptive jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE assets ADD COLUMN administrative jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Bumped by every write of the asset row: the record's version for optimistic concurrency.
ALTER TABLE assets ADD COLUMN record_version bigint NOT NULL DEFAULT 1;

CREATE VIEW asset_structural AS
SELECT asset_id,
       project,
       structural ->> 'scene'                         AS scene,
       structural ->> 'take'                          AS take,
       technical ->> 'timecode'                       AS timecode,
       source ->> 'filename'                          AS filename,
       (technical ->> 'width')::integer               AS width,
       (technical ->> 'height')::integer              AS height,
       (technical ->> 'fps')::double precision        AS fps,
       (technical ->> 'duration_s')::double precision AS duration_s,
       technical ->> 'color_space'                    AS color_space,
       technical -> 'camera' ->> 'make'               AS camera_make,
       technical -> 'camera' ->> 'model'              AS camera_model,
       technical -> 'camera' ->> 'lens'               AS lens,
       jsonb_array_length(COALESCE(sections -> 'shots', '[]'::jsonb)) AS shot_count
FROM assets;

CREATE VIEW asset_descriptive AS
SELECT asset_id,
       project,
       descriptive ->> 'title'            AS title,
       descriptive ->> 'description'      AS description,
       COALESCE(descriptive -> 'keywords', '[]'::jsonb) AS keywords,
       sections ->> 'tag_preset'          AS tag_preset,
       (sections ->> 'tags_version')::integer AS tags_version,
       sections -> 'transcript' ->> 'text' AS transcript
FROM assets;

CREATE VIEW asset_administrative AS
SELECT asset_id,
       project,
       COALESCE(administrative ->> 'rights', '')  AS rights,
       COALESCE(administrative ->> 'licence', '') AS licence,
       COALESCE(administrative ->> 'access', 'project') AS access,
       source ->> 'sha256'                       AS provenance_sha256,
       record_version,
       created_at,
       updated_at
FROM assets;
