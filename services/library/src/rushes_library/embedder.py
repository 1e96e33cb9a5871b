"""Background embedding of the search index: rows whose document changed get a new vector.

Runs beside the event consumer, never inside an event's transaction: the catalog stays current
when Triton is slow or down, and hybrid search uses keywords for rows not embedded yet. The update
names the document's md5, so a row whose document changed while its vector was computed stays on
the work list instead of getting a stale vector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from rushes_inference import InferenceError, ModelUnavailable

from rushes_library.database import CatalogUnavailable, Database
from rushes_library.search_metrics import EMBEDDED_TOTAL
from rushes_library.text_embedding import Embeds, vector_literal

log = logging.getLogger(__name__)

_PENDING = """
SELECT asset_id, shot_index, document, md5(document) AS digest FROM search_shots
WHERE embedded_md5 IS DISTINCT FROM md5(document)
LIMIT %s
"""
# Only when the document is still the one embedded: otherwise the row stays on the work list.
_MARK = """
UPDATE search_shots SET embedded_md5 = %s
WHERE asset_id = %s AND shot_index = %s AND md5(document) = %s
"""
_STORE = """
INSERT INTO search_vectors (asset_id, shot_index, embedding) VALUES (%s, %s, %s::vector)
ON CONFLICT (asset_id, shot_index) DO UPDATE SET embedding = EXCLUDED.embedding
"""


class ShotEmbedder:
    def __init__(
        self,
        db: Database,
        embedder: Embeds,
        *,
        batch: int = 128,
        idle_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._db = db
        self._embedder = embedder
        self._batch = batch
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s

    async def embed_pending(self) -> int:
        """Embed one batch of pending rows; returns how many were stored."""
        async with self._db.connection() as conn:
            cursor = await conn.execute(_PENDING, (self._batch,))
            rows = await cursor.fetchall()
        if not rows:
            return 0
        vectors = await self._embedder.embed([row["document"] for row in rows])
        stored = 0
        async with self._db.connection() as conn, conn.transaction():
            for row, vector in zip(rows, vectors, strict=True):
                key = (row["asset_id"], row["shot_index"])
                cursor = await conn.execute(_MARK, (row["digest"], *key, row["digest"]))
                if cursor.rowcount:
                    await conn.execute(_STORE, (*key, vector_literal(vector)))
                    stored += 1
        EMBEDDED_TOTAL.inc(stored)
        return stored

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop: embed while there is work, wait `idle_s` when there is none, back off on failures."""
        backoff = self._idle_s
        while not stop.is_set():
            try:
                done = await self.embed_pending()
                backoff = self._idle_s
                wait = 0.0 if done else self._idle_s
            except (ModelUnavailable, CatalogUnavailable) as exc:
                log.info("embedding paused: %s", exc)
                backoff = min(self._max_backoff_s, backoff * 2)
                wait = backoff
            except (InferenceError, ValueError) as exc:
                log.error("embedding failed (will retry): %s", exc)
                backoff = min(self._max_backoff_s, backoff * 2)
                wait = backoff
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
