"""Search over the shot index: boolean filters, keyword ranking, embeddings, facets, autocomplete.

A query's field filters, phrases and operators are strict (see query_sql); its loose words rank
the rows that pass. Ranking is hybrid: cosine similarity of the query's embedding to each shot's
(pgvector HNSW) fused with Postgres full-text rank (ts_rank_cd), each side taking its own top
candidates before fusion, so neither needs a full scan. Without the embedding model (Triton down,
rows not embedded yet) the same query runs on keywords alone and the answer says so (`kind`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import sql
from rushes_inference import InferenceError, ModelUnavailable

from rushes_library.catalog import InvalidRequest
from rushes_library.database import AsyncConn, CatalogUnavailable, Database
from rushes_library.query_parser import QueryError
from rushes_library.query_sql import CompiledQuery, compile_query, field_names
from rushes_library.search_index import ASSET_LEVEL
from rushes_library.search_metrics import SEARCH_LATENCY, SEARCH_QUERIES_TOTAL, SEARCH_ZERO_RESULTS_TOTAL
from rushes_library.taxonomy import load_taxonomy
from rushes_library.text_embedding import Embeds, vector_literal

log = logging.getLogger(__name__)

Mode = Literal["auto", "boolean", "keyword"]
MAX_LIMIT = 500
DEFAULT_LIMIT = 20
VECTOR_WEIGHT = 0.6
KEYWORD_WEIGHT = 0.4
# Below this cosine similarity a shot is not "like" the query at all (WordLlama: related phrases
# score ~0.25, unrelated ~0); without a floor every query would return the whole top-K.
MIN_SIMILARITY = 0.15
# Without embeddings, how many any-word matches are ranked (an arbitrary subset beyond that).
KEYWORD_ONLY_POOL = 2000
_COLUMNS = sql.SQL(
    "s.asset_id, s.shot_index, s.start_s, s.end_s, s.keyframe, s.poster, s.filename, s.project,"
    " s.labels, s.transcript"
)


@dataclass(frozen=True)
class Hit:
    asset_id: str
    shot_index: int | None
    start_s: float
    end_s: float
    score: float
    highlights: list[str]
    keyframe: str
    poster: str
    filename: str
    project: str

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "shot_index": self.shot_index,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "score": round(self.score, 6),
            "highlights": self.highlights,
            "keyframe": self.keyframe,
            "poster": self.poster,
            "filename": self.filename,
            "project": self.project,
        }


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    kind: str  # "boolean" | "hybrid" | "keyword" | "similar"
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    took_s: float = 0.0
    # 0: facet counts are exact; else they cover only this many matching rows (see _facets).
    facets_sample: int = 0


# Matching rows whose labels the facets count; beyond it the counts are a stated sample.
FACET_SAMPLE = 2000


class SearchEngine:
    def __init__(self, db: Database, embedder: Embeds | None = None) -> None:
        self._db = db
        self._embedder = embedder

    async def search(
        self,
        query: str,
        *,
        project: str = "",
        limit: int = DEFAULT_LIMIT,
        mode: Mode = "auto",
        facets: bool = False,
    ) -> SearchResult:
        """Raises QueryError (bad query), InvalidRequest (bad options), CatalogUnavailable."""
        started = time.perf_counter()
        kind = "boolean"
        try:
            limit = _check_limit(limit)
            if mode not in ("auto", "boolean", "keyword"):
                raise InvalidRequest(f"mode {mode!r} is not auto, boolean or keyword")
            compiled = compile_query(query, boolean=mode == "boolean")
            vector = None
            if compiled.words:
                kind = "keyword"
                if mode == "auto" and self._embedder is not None:
                    vector = await self._query_vector(" ".join(compiled.words))
                    kind = "hybrid" if vector is not None else "keyword"
            async with self._db.connection() as conn, conn.transaction():
                if compiled.words:
                    rows = await _ranked(conn, compiled, project, limit, vector)
                else:
                    rows = await _filtered(conn, compiled, project, limit)
                facet_counts, sample = await _facets(conn, compiled, project) if facets else ({}, 0)
        except (QueryError, InvalidRequest):
            SEARCH_QUERIES_TOTAL.labels(kind=kind, result="invalid").inc()
            raise
        except CatalogUnavailable:
            SEARCH_QUERIES_TOTAL.labels(kind=kind, result="unavailable").inc()
            raise
        hits = [_hit(row, compiled) for row in rows]
        took = time.perf_counter() - started
        _count(kind, hits, took)
        return SearchResult(hits=hits, kind=kind, facets=facet_counts, took_s=took, facets_sample=sample)

    async def more_like_this(
        self, asset_ref: str, shot_index: int | None, *, project: str = "", limit: int = DEFAULT_LIMIT
    ) -> SearchResult:
        """Shots whose embedding is nearest this shot's (or the asset row's when shot_index is None)."""
        started = time.perf_counter()
        limit = _check_limit(limit)
        index = ASSET_LEVEL if shot_index is None else shot_index
        if index < ASSET_LEVEL:
            raise InvalidRequest(f"shot index {shot_index} is negative")
        async with self._db.connection() as conn, conn.transaction():
            asset_id = await _resolve_asset(conn, asset_ref)
            cursor = await conn.execute(
                "SELECT v.embedding::text AS embedding FROM search_shots s"
                " LEFT JOIN search_vectors v USING (asset_id, shot_index)"
                " WHERE s.asset_id = %s AND s.shot_index = %s",
                (asset_id, index),
            )
            row = await cursor.fetchone()
            if row is None:
                where = "the asset" if shot_index is None else f"shot {shot_index}"
                raise LookupError(f"asset {asset_id} has no {where} in the search index")
            if row["embedding"] is None:
                raise InvalidRequest(
                    f"asset {asset_id} shot {shot_index} is not embedded yet (the text embedder is "
                    "behind or unavailable); try again shortly"
                )
            await _tune_vector_scan(conn)
            params: list[Any] = [row["embedding"], asset_id, index]
            project_filter = sql.SQL("")
            if project:
                project_filter = sql.SQL(" AND s.project = %s")
                params.append(project)
            params.extend([row["embedding"], limit])
            cursor = await conn.execute(
                sql.SQL(
                    "SELECT {}, 1 - (v.embedding <=> %s::vector) AS score"
                    " FROM search_vectors v JOIN search_shots s USING (asset_id, shot_index)"
                ).format(_COLUMNS)
                + sql.SQL(" WHERE NOT (v.asset_id = %s AND v.shot_index = %s)")
                + project_filter
                + sql.SQL(" ORDER BY v.embedding <=> %s::vector LIMIT %s"),
                params,
            )
            rows = await cursor.fetchall()
        hits = [_hit(r, None) for r in rows]
        took = time.perf_counter() - started
        _count("similar", hits, took)
        return SearchResult(hits=hits, kind="similar", took_s=took)

    async def autocomplete(self, prefix: str, *, project: str = "", limit: int = 10) -> list[str]:
        """Completions of a field name, a `field:value` or a tag (taxonomy names and synonyms)."""
        limit = max(1, min(limit, 50))
        if len(prefix) > 200 or not prefix.isprintable():
            raise InvalidRequest("the prefix must be printable and at most 200 characters")
        taxonomy = load_taxonomy()
        if ":" in prefix:
            name, _, start = prefix.partition(":")
            name = name.lower()
            if name == "tag":
                return [f"tag:{n}" for n in taxonomy.suggest(start, limit)]
            from rushes_library.query_sql import FIELDS

            spec = FIELDS.get(name)
            if spec is None:
                raise QueryError(f"unknown field {name!r}", 0, prefix)
            if spec.kind == "label":
                values = [v for v in taxonomy.field_values(spec.source) if v.startswith(start.lower())]
                return [f"{name}:{v}" for v in values[:limit]]
            if spec.kind in ("text", "prefix"):
                pattern = start.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                query = sql.SQL("SELECT DISTINCT {col} AS v FROM search_shots WHERE {col} ILIKE %s").format(
                    col=sql.Identifier(spec.column)
                )
                params: list[Any] = [pattern]
                if project:
                    query += sql.SQL(" AND project = %s")
                    params.append(project)
                query += sql.SQL(" ORDER BY 1 LIMIT %s")
                params.append(limit)
                async with self._db.connection() as conn:
                    cursor = await conn.execute(query, params)
                    return [f"{name}:{row['v']}" for row in await cursor.fetchall() if row["v"]]
            return []
        fields = [f"{f}:" for f in field_names() if f.startswith(prefix.lower())]
        tags = [f"tag:{n}" for n in taxonomy.suggest(prefix, limit)] if prefix else []
        return (fields + tags)[:limit]

    async def _query_vector(self, text: str) -> str | None:
        assert self._embedder is not None
        try:
            vectors = await self._embedder.embed([text])
        except (ModelUnavailable, InferenceError, ValueError) as exc:
            log.warning("search falls back to keywords: the text embedder failed: %s", exc)
            return None
        if not vectors.any():
            return None  # no known word: an all-zero vector has no direction
        return vector_literal(vectors[0])


def _check_limit(limit: int) -> int:
    if limit == 0:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit {limit} is out of range 1..{MAX_LIMIT}")
    return limit


def _count(kind: str, hits: Sequence[Hit], took: float) -> None:
    SEARCH_QUERIES_TOTAL.labels(kind=kind, result="ok").inc()
    SEARCH_LATENCY.labels(kind=kind).observe(took)
    if not hits:
        SEARCH_ZERO_RESULTS_TOTAL.labels(kind=kind).inc()


def _scope(compiled: CompiledQuery, project: str) -> tuple[sql.Composable, list[Any]]:
    where: sql.Composable = sql.SQL("(") + compiled.where + sql.SQL(")")
    params = list(compiled.params)
    if project:
        where += sql.SQL(" AND project = %s")
        params.append(project)
    return where, params


async def _filtered(
    conn: AsyncConn, compiled: CompiledQuery, project: str, limit: int
) -> list[dict[str, Any]]:
    where, params = _scope(compiled, project)
    # Newest first (index search_shots_newest); a phrase query ranks by how well the phrase fits.
    order = sql.SQL(" ORDER BY s.recorded_at DESC NULLS LAST, s.asset_id, s.shot_index LIMIT %s")
    score: sql.Composable = sql.SQL("1.0::float8")
    score_params: list[Any] = []
    if compiled.phrases:
        score = sql.SQL("ts_rank_cd(s.transcript_tsv, phraseto_tsquery('simple', %s))")
        score_params.append(compiled.phrases[0])
        order = sql.SQL(
            " ORDER BY score DESC, s.recorded_at DESC NULLS LAST, s.asset_id, s.shot_index LIMIT %s"
        )
    query = (
        sql.SQL("SELECT {}, {} AS score FROM search_shots s WHERE ").format(_COLUMNS, score) + where + order
    )
    cursor = await conn.execute(query, [*score_params, *params, limit])
    return list(await cursor.fetchall())


async def _ranked(
    conn: AsyncConn, compiled: CompiledQuery, project: str, limit: int, vector: str | None
) -> list[dict[str, Any]]:
    """Candidates from each side, then one ranking over the few hundred candidates.

    Keyword candidates are the shots holding every word (a selective GIN lookup); without
    embeddings, also a bounded set of shots holding any word. Vector candidates are the nearest
    shots that pass the filters (HNSW). All candidates are then scored: cosine similarity (when
    there is a vector) plus ts_rank_cd against the any-word query, so partial keyword matches
    still lift a shot without ranking every row that shares one common word.
    """
    where, params = _scope(compiled, project)
    pool = max(100, limit * 5)
    text = " ".join(compiled.words)
    parts: list[sql.Composable] = [
        sql.SQL(
            "q AS (SELECT plainto_tsquery('english', %s) AS q_all,"
            " replace(plainto_tsquery('english', %s)::text, '&', '|')::tsquery AS q_any)"
        ),
        sql.SQL("kw AS (SELECT s.asset_id, s.shot_index FROM search_shots s, q WHERE ")
        + where
        + sql.SQL(" AND s.tsv @@ q.q_all LIMIT %s)"),
    ]
    all_params: list[Any] = [text, text, *params, pool]
    candidates = ["kw"]
    if vector is None:
        parts.append(
            sql.SQL("kw_any AS (SELECT s.asset_id, s.shot_index FROM search_shots s, q WHERE ")
            + where
            + sql.SQL(" AND s.tsv @@ q.q_any LIMIT %s)")
        )
        all_params += [*params, KEYWORD_ONLY_POOL]
        candidates.append("kw_any")
        similarity: sql.Composable = sql.SQL("0.0")
        weights: list[Any] = []
    else:
        await _tune_vector_scan(conn)
        parts.append(
            sql.SQL(
                "vec AS (SELECT v.asset_id, v.shot_index, 1 - (v.embedding <=> %s::vector) AS sim"
                " FROM search_vectors v JOIN search_shots s USING (asset_id, shot_index) WHERE "
            )
            + where
            + sql.SQL(" AND (v.embedding <=> %s::vector) <= %s ORDER BY v.embedding <=> %s::vector LIMIT %s)")
        )
        all_params += [vector, *params, vector, 1.0 - MIN_SIMILARITY, vector, pool]
        candidates.append("vec")
        similarity = sql.SQL("%s * COALESCE(vec.sim, 0)")
        weights = [VECTOR_WEIGHT]
    union = sql.SQL(" UNION ").join(
        sql.SQL("SELECT asset_id, shot_index FROM {}").format(sql.Identifier(c)) for c in candidates
    )
    parts.append(sql.SQL("cand AS (") + union + sql.SQL(")"))
    vec_join = sql.SQL(" LEFT JOIN vec USING (asset_id, shot_index)") if vector is not None else sql.SQL("")
    query = (
        sql.SQL("WITH ")
        + sql.SQL(", ").join(parts)
        + sql.SQL(" SELECT {}, ").format(_COLUMNS)
        + similarity
        + sql.SQL(" + %s * ts_rank_cd(s.tsv, q.q_any, 32) AS score FROM cand JOIN search_shots s USING (asset_id, shot_index)")
        + vec_join
        + sql.SQL(", q ORDER BY score DESC, s.asset_id, s.shot_index LIMIT %s")
    )  # fmt: skip
    cursor = await conn.execute(query, [*all_params, *weights, KEYWORD_WEIGHT, limit])
    return [row for row in await cursor.fetchall() if row["score"] > 0]


async def _tune_vector_scan(conn: AsyncConn) -> None:
    """Filtered nearest-neighbour scans keep going until enough rows pass the filter (pgvector 0.8)."""
    await conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
    await conn.execute("SELECT set_config('hnsw.ef_search', '100', true)")


async def _facets(
    conn: AsyncConn, compiled: CompiledQuery, project: str
) -> tuple[dict[str, dict[str, int]], int]:
    """Counts of every field value among the rows that pass the strict filters, and the sample size.

    Exact up to FACET_SAMPLE matching rows. Past that, exact counts cost a scan and an unnest of
    every matching row (156 ms p95 at 100k shots for unselective filters), so the counts cover the
    first FACET_SAMPLE + 1 rows the filter yields and the second value says so (0 when exact). The
    facets are for narrowing a search ("most of these are wide"), where proportions of a few
    thousand rows are as useful as totals.
    """
    where, params = _scope(compiled, project)
    cursor = await conn.execute(
        sql.SQL("WITH matched AS MATERIALIZED (SELECT labels FROM search_shots WHERE ")
        + where
        + sql.SQL(
            " LIMIT %s)"
            " SELECT label, count(*) AS n, (SELECT count(*) FROM matched) AS counted"
            " FROM matched, unnest(labels) AS label"
            " WHERE label NOT LIKE 'tag:%%' GROUP BY label ORDER BY n DESC, label LIMIT 500"
        ),
        [*params, FACET_SAMPLE + 1],
    )
    facets: dict[str, dict[str, int]] = {}
    counted = 0
    for row in await cursor.fetchall():
        name, _, value = str(row["label"]).partition(":")
        facets.setdefault(name, {})[value] = int(row["n"])
        counted = int(row["counted"])
    return facets, (counted if counted > FACET_SAMPLE else 0)


async def _resolve_asset(conn: AsyncConn, asset_ref: str) -> str:
    ref = asset_ref.strip()
    if not ref or len(ref) > 256 or not ref.isprintable():
        raise InvalidRequest("asset_id is required (printable, at most 256 characters)")
    cursor = await conn.execute("SELECT asset_id FROM assets WHERE asset_id = %s", (ref,))
    row = await cursor.fetchone()
    if row is not None:
        return str(row["asset_id"])
    if len(ref) < 8:
        raise LookupError(f"asset {ref!r} not found, and a prefix must have at least 8 characters")
    pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cursor = await conn.execute("SELECT asset_id FROM assets WHERE asset_id LIKE %s LIMIT 2", (pattern,))
    rows = await cursor.fetchall()
    if len(rows) != 1:
        raise (
            LookupError(f"no asset has id or prefix {ref!r}")
            if not rows
            else InvalidRequest(f"asset prefix {ref!r} is ambiguous; give more characters")
        )
    return str(rows[0]["asset_id"])


def _hit(row: dict[str, Any], compiled: CompiledQuery | None) -> Hit:
    return Hit(
        asset_id=row["asset_id"],
        shot_index=None if row["shot_index"] == ASSET_LEVEL else int(row["shot_index"]),
        start_s=float(row["start_s"]),
        end_s=float(row["end_s"]),
        score=float(row["score"] or 0.0),
        highlights=_highlights(row, compiled) if compiled is not None else [],
        keyframe=row["keyframe"],
        poster=row["poster"],
        filename=row["filename"],
        project=row["project"],
    )


def _highlights(row: dict[str, Any], compiled: CompiledQuery) -> list[str]:
    """What in the hit matched: the labels the query named, and the spoken words in «»."""
    labels = set(row["labels"])
    found = [label for label in dict.fromkeys(compiled.labels) if label in labels]
    taxonomy = load_taxonomy()
    for word in compiled.words:
        node = taxonomy.resolve(word)
        if node is not None and f"tag:{node}" in labels and f"tag:{node}" not in found:
            found.append(f"tag:{node}")
    transcript: str = row["transcript"] or ""
    lowered = transcript.lower()
    # Phrases first, then the longest words (the least likely to be filler such as "the").
    for needle in [*compiled.phrases, *sorted(compiled.words, key=len, reverse=True)]:
        position = lowered.find(needle.lower())
        if position < 0:
            continue
        start = max(0, position - 40)
        end = min(len(transcript), position + len(needle) + 40)
        snippet = (
            ("..." if start else "")
            + transcript[start:position]
            + "«"
            + transcript[position : position + len(needle)]
            + "»"
            + transcript[position + len(needle) : end]
            + ("..." if end < len(transcript) else "")
        )
        found.append(f"transcript: {snippet}")
        break
    return found
