"""Keep the derived tables of one asset (search_shots, review_items, structural tier) in step.

Called inside the transaction that writes the asset row, so the index and the queue never show a
state the catalog does not hold. Rows are upserted rather than replaced so that an unchanged
shot keeps its embedding (the embedder re-reads only rows whose document changed).
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from rushes_library.database import AsyncConn
from rushes_library.review_queue import review_items
from rushes_library.search_index import build_rows
from rushes_library.state import AssetState

_UPSERT_ROW = """
INSERT INTO search_shots (asset_id, shot_index, project, status, start_s, end_s, duration_s, recorded_at,
    filename, scene, take, camera, lens, location, video_codec, width, height, fps, kelvin, keyframe,
    poster, labels, confidences, min_confidence, needs_review, label_text, transcript, document)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
    %s, %s, %s, %s)
ON CONFLICT (asset_id, shot_index) DO UPDATE SET
    project = EXCLUDED.project, status = EXCLUDED.status, start_s = EXCLUDED.start_s,
    end_s = EXCLUDED.end_s, duration_s = EXCLUDED.duration_s, recorded_at = EXCLUDED.recorded_at,
    filename = EXCLUDED.filename, scene = EXCLUDED.scene, take = EXCLUDED.take,
    camera = EXCLUDED.camera, lens = EXCLUDED.lens, location = EXCLUDED.location,
    video_codec = EXCLUDED.video_codec, width = EXCLUDED.width, height = EXCLUDED.height,
    fps = EXCLUDED.fps, kelvin = EXCLUDED.kelvin, keyframe = EXCLUDED.keyframe, poster = EXCLUDED.poster,
    labels = EXCLUDED.labels, confidences = EXCLUDED.confidences,
    min_confidence = EXCLUDED.min_confidence, needs_review = EXCLUDED.needs_review,
    label_text = EXCLUDED.label_text, transcript = EXCLUDED.transcript, document = EXCLUDED.document
"""


async def reindex_asset(conn: AsyncConn, state: AssetState, status: str) -> None:
    cursor = await conn.execute(
        "SELECT created_at, descriptive FROM assets WHERE asset_id = %s", (state.asset_id,)
    )
    row = await cursor.fetchone()
    created_at = row["created_at"] if row else None
    # What editors wrote (title, description, tags) is searchable on every shot of the asset.
    descriptive = dict(row["descriptive"] or {}) if row else {}
    rows = build_rows(state, status=status, created_at=created_at, descriptive=descriptive)
    for r in rows:
        await conn.execute(
            _UPSERT_ROW,
            (
                r.asset_id, r.shot_index, r.project, r.status, r.start_s, r.end_s, r.duration_s,
                r.recorded_at, r.filename, r.scene, r.take, r.camera, r.lens, r.location, r.video_codec,
                r.width, r.height, r.fps, r.kelvin, r.keyframe, r.poster, r.labels, Jsonb(r.confidences),
                r.min_confidence, r.needs_review, r.label_text, r.transcript, r.document,
            ),
        )  # fmt: skip
    await conn.execute(
        "DELETE FROM search_shots WHERE asset_id = %s AND NOT (shot_index = ANY(%s))",
        (state.asset_id, [r.shot_index for r in rows]),
    )
    if rows:
        # The structural tier's scene/take: what people set wins over what the file name says.
        await conn.execute(
            "UPDATE assets SET structural = jsonb_strip_nulls(jsonb_build_object("
            "'scene', NULLIF(%s, ''), 'take', NULLIF(%s, ''))) || structural WHERE asset_id = %s",
            (rows[0].scene, rows[0].take, state.asset_id),
        )
    items = review_items(state)
    await conn.execute(
        "DELETE FROM review_items WHERE asset_id = %s AND NOT (item_id = ANY(%s))",
        (state.asset_id, [item.item_id for item in items]),
    )
    for item in items:
        await conn.execute(
            "INSERT INTO review_items (asset_id, item_id, project, kind, confidence, revision, item)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (asset_id, item_id) DO UPDATE SET project = EXCLUDED.project,"
            " kind = EXCLUDED.kind, confidence = EXCLUDED.confidence, revision = EXCLUDED.revision,"
            " item = EXCLUDED.item,"
            " queued_at = CASE WHEN review_items.revision = EXCLUDED.revision"
            "                  THEN review_items.queued_at ELSE now() END",
            (
                item.asset_id, item.item_id, item.project, item.kind, item.confidence, item.revision,
                Jsonb(item.to_json()),
            ),
        )  # fmt: skip
