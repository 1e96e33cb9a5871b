"""Search latency on a synthetic catalog of 100,000 shots, and the catalog's ingest rate.

Targets (2-core machine): p95 <= 100 ms for boolean and hybrid queries. The catalog is generated
directly in Postgres (COPY), with tags drawn from the taxonomy, transcripts drawn from a word list
and embeddings computed by the same WordLlama model the Triton `text_embedder` serves (in-process
here: the bench measures the library's query path; the query's embedding is timed apart, and a
Triton round trip adds a few ms). The HNSW index is built after the load, as a bulk load would.

Ingest rate is measured twice: bulk rows/s into search_shots (COPY, the synthetic load) and the
real event path (Catalog.record_event of ingested + tagged events, index and queue maintained in
the same transaction) in assets/s and shots/s.

    .venv/bin/python -m bench.search [--quick]
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

TARGET_P95_MS = 100.0
SHOTS = 100_000
QUICK_SHOTS = 10_000
SHOTS_PER_ASSET = 10
ROUNDS = 40
PROJECTS = ("harbour_doc", "city_feature", "alpine_series", "studio_ads")
_WORD_TEXT = (
    "boats harbour dusk dawn sea waves wind rain city street night traffic crowd market children play "
    "laugh talk interview budget meeting office window light shadow mountain snow forest river bridge "
    "train station airport plane engine fire smoke kitchen cook bread coffee morning evening sunset "
    "sunrise beach sand rocks cliff lighthouse storm thunder quiet calm music dance party guitar song "
    "story family mother father brother sister friend teacher school lesson question answer remember "
    "country freedom history future today tomorrow yesterday work money price market ship crane dock "
    "fish net rope anchor sail boat captain crew deck cabin horizon island bay port tide moon star"
)
_FILLER_TEXT = "the a and of to in at on with it is was we they you our this that there here"
_WORDS = _WORD_TEXT.split()
_FILLER = _FILLER_TEXT.split()


def _labels(rng: random.Random) -> tuple[list[str], dict[str, float], str]:
    from rushes_library.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    labels: set[str] = set()
    confidences: dict[str, float] = {}
    words: list[str] = []
    for field in ("shot_type", "category", "exposure", "sharpness", "shakiness", "noise", "pace", "mood"):
        raw = rng.choice(taxonomy.field_values(field))
        node = taxonomy.field_value_node(field, raw)
        assert node is not None
        labels.add(f"{field}:{raw}")
        labels.add(f"tag:{node}")
        labels.update(f"tag:{a}" for a in taxonomy.ancestors(node))
        confidences[field] = round(rng.uniform(0.2, 0.99), 3)
        words.append(node.replace("_", " "))
    return sorted(labels), confidences, " ".join(words)


def _transcript(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return ""  # not every shot has speech
    return " ".join(
        rng.choice(_WORDS) if rng.random() < 0.6 else rng.choice(_FILLER) for _ in range(rng.randint(5, 25))
    )


def _vector(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.4f}" for x in vector) + "]"


class LocalEmbedder:
    """The text_embedder model's logic in-process (same weights, same normalisation)."""

    def __init__(self) -> None:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models" / "text_embedder" / "1"))
        import embed_logic

        self._engine = embed_logic.Embedder(embed_logic.EmbedderSettings())

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._engine.embed(list(texts))

    def embed_now(self, texts: list[str]) -> np.ndarray:
        return self._engine.embed(texts)


def _load(dsn: str, shots: int, embedder: LocalEmbedder, seed: int = 7) -> dict[str, float]:
    import psycopg

    rng = random.Random(seed)
    assets = shots // SHOTS_PER_ASSET
    rows: list[tuple[Any, ...]] = []
    documents: list[str] = []
    start_day = 1_790_000_000.0  # 2026-09-21
    for a in range(assets):
        asset_id = f"{a:032x}"
        project = PROJECTS[a % len(PROJECTS)]
        recorded = start_day + rng.uniform(0, 60 * 86400)
        for s in range(SHOTS_PER_ASSET):
            labels, confidences, label_text = _labels(rng)
            transcript = _transcript(rng)
            start_s = s * 6.0
            end_s = start_s + rng.uniform(1.0, 12.0)
            document = f"{label_text}. {transcript}" if transcript else label_text
            documents.append(document)
            rows.append((asset_id, s, project, start_s, end_s, end_s - start_s, recorded, f"S{a % 40}_T{s}.mov",
                         str(a % 40), str(s), "ARRI ALEXA 35", rng.uniform(3000, 9000),
                         f"assets/{asset_id}/keyframes/{s:04d}.jpg", labels,
                         psycopg.types.json.Jsonb(confidences), min(confidences.values()),
                         min(confidences.values()) < 0.35, label_text, transcript, document))  # fmt: skip
    t0 = time.perf_counter()
    vectors = embedder.embed_now(documents)
    embed_s = time.perf_counter() - t0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP INDEX search_vectors_embedding")
        conn.execute(
            "INSERT INTO assets (asset_id, project, status) SELECT lpad(to_hex(g), 32, '0'), %s, 'complete'"
            " FROM generate_series(0, %s) g",
            ("bench", assets - 1),
        )
        t0 = time.perf_counter()
        shot_columns = (
            "asset_id, shot_index, project, start_s, end_s, duration_s, recorded_at, filename, scene, take,"
            " camera, kelvin, keyframe, labels, confidences, min_confidence, needs_review, label_text,"
            " transcript, document, embedded_md5"
        )
        with conn.cursor() as cursor, cursor.copy(f"COPY search_shots ({shot_columns}) FROM STDIN") as copy:
            for row in rows:
                r = list(row)
                r[6] = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(r[6]))
                copy.write_row([*r, hashlib.md5(r[-1].encode()).hexdigest()])
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY search_vectors (asset_id, shot_index, embedding) FROM STDIN") as copy,
        ):
            for row, vector in zip(rows, vectors, strict=True):
                copy.write_row([row[0], row[1], _vector(vector)])
        copy_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(
            "CREATE INDEX search_vectors_embedding ON search_vectors USING hnsw (embedding vector_cosine_ops)"
        )
        hnsw_s = time.perf_counter() - t0
        conn.execute("VACUUM ANALYZE search_shots")
        conn.execute("VACUUM ANALYZE search_vectors")
    return {
        "rows": len(rows),
        "embed_rows_per_s": round(len(rows) / embed_s),
        "copy_rows_per_s": round(len(rows) / copy_s),
        "hnsw_build_s": round(hnsw_s, 1),
    }


_BOOLEAN = (
    "shot_type:close_up AND category:interview AND NOT exposure:over",
    "(shot_type:wide OR shot_type:extreme_wide) AND mood:calm duration>5s",
    "tag:handheld AND date:2026-10-01..2026-10-20",
    "category:b_roll AND shot_type.confidence>=0.8 AND NOT noise:noisy",
    '"the harbour"',
    "scene:12 take:3",
    "kelvin:5000..6500 AND sharpness:sharp AND pace:fast",
)
_NATURAL = (
    "a wide shot of the harbour at dusk with someone talking",
    "fishing boats coming back to port",
    "children playing on the beach at sunset",
    "an interview about the budget in an office",
    "storm over the mountain at night",
    "quiet morning in the kitchen with coffee",
    "train station crowd in the rain",
)
_HYBRID = (
    "shot_type:wide harbour boats dusk",
    "category:interview budget meeting",
    "mood:calm beach sunset",
    "NOT exposure:over storm mountain night",
)


async def _latencies(engine: Any, queries: Sequence[str], rounds: int, **options: Any) -> dict[str, Any]:
    timings: list[float] = []
    hits: list[int] = []
    kinds: set[str] = set()
    for i in range(rounds):
        query = queries[i % len(queries)]
        start = time.perf_counter()
        result = await engine.search(query, **options)
        timings.append((time.perf_counter() - start) * 1000)
        hits.append(len(result.hits))
        kinds.add(result.kind)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "max_ms": round(timings[-1], 1),
        "mean_hits": round(statistics.mean(hits), 1),
        "kinds": sorted(kinds),
        "queries": len(timings),
    }


async def _ingest_path(dsn: str, assets: int) -> dict[str, float]:
    """The real catalog path: ingested + tagged events through Catalog.record_event."""
    from google.protobuf import json_format
    from rushes.asset.v1 import asset_pb2
    from rushes.events.v1 import events_pb2
    from rushes_events import new_envelope
    from rushes_library.catalog import Catalog
    from rushes_library.database import Database

    rng = random.Random(11)
    db = Database(dsn, max_connections=2)
    catalog = Catalog(db, pipeline_stages=["ingest", "tagging"])
    events: list[tuple[str, Any]] = []
    for a in range(assets):
        asset_id = f"ff{a:030x}"
        ingested = events_pb2.AssetIngested(
            envelope=new_envelope("asset.ingested", asset_id=asset_id, producer="bench", producer_version="0",
                                  project="ingest_bench"),
            source=asset_pb2.Source(filename=f"S{a}_T1.mov", bytes=1, sha256="0" * 64),
            technical=asset_pb2.Technical(duration_s=60.0, width=1920, height=1080, fps=25.0, has_video=True),
            run=events_pb2.StageRun(stage="ingest"),
        )  # fmt: skip
        tagged = events_pb2.AssetTagged(
            envelope=new_envelope("asset.tagged", asset_id=asset_id, producer="bench", producer_version="0",
                                  project="ingest_bench"),
            preset="documentary", tags_version=1, run=events_pb2.StageRun(stage="tagging"),
        )  # fmt: skip
        for s in range(SHOTS_PER_ASSET):
            shot = tagged.shots.add(index=s, start_s=s * 6.0, end_s=s * 6.0 + 5.0)
            for field in ("shot_type", "category", "exposure"):
                from rushes_library.taxonomy import load_taxonomy

                raw = rng.choice(load_taxonomy().field_values(field))
                shot.values[field].CopyFrom(
                    json_format.ParseDict(
                        {"value": raw, "confidence": rng.uniform(0.2, 1.0), "model": "m", "model_version": "1",
                         "needs_review": rng.random() < 0.2},
                        asset_pb2.AiValue(),
                    )
                )  # fmt: skip
        events += [("rushes.v1.asset.ingested", ingested), ("rushes.v1.asset.tagged", tagged)]
    start = time.perf_counter()
    for subject, event in events:
        await catalog.record_event(subject, event)
    took = time.perf_counter() - start
    await db.close()
    return {
        "assets": assets,
        "events_per_s": round(len(events) / took, 1),
        "assets_per_s": round(assets / took, 1),
        "shots_per_s": round(assets * SHOTS_PER_ASSET / took, 1),
    }


async def _measure(dsn: str, shots: int, rounds: int) -> dict[str, Any]:
    from rushes_library.database import Database
    from rushes_library.search import SearchEngine

    embedder = LocalEmbedder()
    load = await asyncio.to_thread(_load, dsn, shots, embedder)
    db = Database(dsn, max_connections=2)
    engine = SearchEngine(db, embedder)
    await engine.search("scene:1")  # warm the connection and the caches
    t0 = time.perf_counter()
    for query in _NATURAL:
        embedder.embed_now([query])
    query_embed_ms = (time.perf_counter() - t0) * 1000 / len(_NATURAL)
    figures = {
        "load": load,
        "boolean": await _latencies(engine, _BOOLEAN, rounds),
        "natural_language": await _latencies(engine, _NATURAL, rounds),
        "hybrid": await _latencies(engine, _HYBRID, rounds),
        "keyword_only": await _latencies(engine, _NATURAL, rounds, mode="keyword"),
        "boolean_with_facets": await _latencies(engine, _BOOLEAN, rounds, facets=True),
        "query_embedding_ms": round(query_embed_ms, 2),
    }
    await db.close()
    figures["ingest_path"] = await _ingest_path(dsn, 20 if shots < SHOTS else 100)
    return figures


def run(*, quick: bool = False) -> dict[str, object]:
    from rushes_library.migrate import apply_migrations
    from rushes_stack.components.postgres import PostgresServer

    shots = QUICK_SHOTS if quick else SHOTS
    rounds = 14 if quick else ROUNDS
    data_dir = Path(tempfile.mkdtemp(prefix="rushes-bench-pg-"))
    server = PostgresServer.create(data_dir / "cluster", durable=False)
    try:
        server.start(data_dir / "postgres.log", die_with_parent=True)
        dsn = server.fresh_database(prefix="bench_search")
        asyncio.run(apply_migrations(dsn))
        figures = asyncio.run(_measure(dsn, shots, rounds))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    worst = max(
        figures["boolean"]["p95_ms"], figures["hybrid"]["p95_ms"], figures["natural_language"]["p95_ms"]
    )
    return {
        "shots": shots,
        **figures,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": worst <= TARGET_P95_MS,
    }


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args().quick), indent=2))
