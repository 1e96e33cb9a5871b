-- The search index: one row per shot (shot_index >= 0), or one per asset that has no shots yet
-- (shot_index = -1), rebuilt from the asset record whenever it changes (same transaction).
-- labels: "field:value" for every tagged value plus "tag:<node>" for its taxonomy node and
-- ancestors; GIN makes `labels @> ARRAY[...]` an index lookup. Two text vectors: `tsv` (english,
-- stemmed: tags weighted A, transcript B) ranks keyword queries; `transcript_tsv` (simple: keeps
-- stop words such as "not") answers quoted transcript phrases exactly.
-- Embeddings live in search_vectors (1 KB each): kept out of this table so that filter scans read
-- narrow rows. The embedder fills them from `document`; embedded_md5 (here, small) says which
-- document version the vector was made from, so a changed document is back on the work list.
CREATE TABLE search_shots (
    asset_id       text COLLATE "C" NOT NULL REFERENCES assets (asset_id) ON DELETE CASCADE,
    shot_index     integer NOT NULL CHECK (shot_index >= -1),
    project        text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT '',
    start_s        double precision NOT NULL DEFAULT 0,
    end_s          double precision NOT NULL DEFAULT 0,
    duration_s     double precision NOT NULL DEFAULT 0,
    recorded_at    timestamptz,
    filename       text NOT NULL DEFAULT '',
    scene          text NOT NULL DEFAULT '',
    take           text NOT NULL DEFAULT '',
    camera         text NOT NULL DEFAULT '',
    lens           text NOT NULL DEFAULT '',
    location       text NOT NULL DEFAULT '',
    video_codec    text NOT NULL DEFAULT '',
    width          integer NOT NULL DEFAULT 0,
    height         integer NOT NULL DEFAULT 0,
    fps            double precision NOT NULL DEFAULT 0,
    kelvin         double precision,
    keyframe       text NOT NULL DEFAULT '',
    poster         text NOT NULL DEFAULT '',
    labels         text[] NOT NULL DEFAULT '{}',
    confidences    jsonb NOT NULL DEFAULT '{}'::jsonb,
    min_confidence double precision,
    needs_review   boolean NOT NULL DEFAULT false,
    label_text     text NOT NULL DEFAULT '',
    transcript     text NOT NULL DEFAULT '',
    document       text NOT NULL DEFAULT '',
    tsv            tsvector GENERATED ALWAYS AS (
                       setweight(to_tsvector('english', label_text), 'A')
                       || setweight(to_tsvector('english', transcript), 'B')) STORED,
    transcript_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', transcript)) STORED,
    embedded_md5   text,
    PRIMARY KEY (asset_id, shot_index)
);

-- 256 = the wordllama l2_supercat model's dimension (models/text_embedder).
CREATE TABLE search_vectors (
    asset_id   text COLLATE "C" NOT NULL,
    shot_index integer NOT NULL,
    embedding  vector(256) NOT NULL,
    PRIMARY KEY (asset_id, shot_index),
    FOREIGN KEY (asset_id, shot_index) REFERENCES search_shots (asset_id, shot_index) ON DELETE CASCADE
);
CREATE INDEX search_vectors_embedding ON search_vectors USING hnsw (embedding vector_cosine_ops);

CREATE INDEX search_shots_labels ON search_shots USING gin (labels);
CREATE INDEX search_shots_tsv ON search_shots USING gin (tsv);
CREATE INDEX search_shots_transcript_tsv ON search_shots USING gin (transcript_tsv);
CREATE INDEX search_shots_project ON search_shots (project);
-- Text fields compare case-insensitively (query_sql: lower(col) = lower(value)).
CREATE INDEX search_shots_scene ON search_shots (lower(scene));
CREATE INDEX search_shots_take ON search_shots (lower(take));
CREATE INDEX search_shots_camera ON search_shots (lower(camera));
CREATE INDEX search_shots_location ON search_shots (lower(location));
-- Newest first is the order of filter-only queries: with this index an unselective filter walks
-- the newest rows and stops at the limit instead of sorting every match.
CREATE INDEX search_shots_newest ON search_shots (recorded_at DESC NULLS LAST, asset_id, shot_index);
CREATE INDEX search_shots_duration ON search_shots (duration_s);
-- The embedder's work list: rows whose document changed since it was embedded.
CREATE INDEX search_shots_to_embed ON search_shots (asset_id, shot_index)
    WHERE embedded_md5 IS DISTINCT FROM md5(document);

