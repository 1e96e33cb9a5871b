"""Object store: put/get MB/s through rushes_storage.ObjectStore vs the minio SDK raw, same SeaweedFS.

Ours: `ObjectStore.put_file` (SHA-256 of the file first, hashed again while streaming, stored as
metadata, multipart in settings.part_size_bytes parts) and `get_file` (stat, If-Match GET, SHA-256
check, temp file renamed into place). Peer: `Minio.fput_object` with the same part size and
`fget_object`, no checksum of our own. Same server, same random (incompressible) files, alternating
ours/peer per round, best of N. Target: ours/peer >= 0.9 for both put and get, at every size.
`peer_get_sha256` (the peer's GET followed by a SHA-256 of the file) is reported beside it, not
judged: it shows how much of a gap is the integrity check itself.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from minio import Minio
from rushes_stack.components.s3 import S3Server
from rushes_storage import ObjectStore
from rushes_storage.store import sha256_file

TARGET_RATIO = 0.9
MB = 1_000_000
BUCKET = "bench-storage"


def _random_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        remaining = size
        while remaining:
            block = os.urandom(min(remaining, 8 * 1024 * 1024))
            out.write(block)
            remaining -= len(block)
    return path


def _mb_per_s(action: Callable[[], object], size: int) -> float:
    start = time.perf_counter()
    action()
    return size / MB / (time.perf_counter() - start)


def _steps(
    store: ObjectStore, raw: Minio, part: int, src: Path, dest: Path, key_ours: str, key_peer: str
) -> list[tuple[str, Callable[[], object]]]:
    """One round: put and get through ours and the peer; last, not judged, the peer's GET + SHA-256
    (what ours checks), which shows how much of a gap the integrity check itself is."""

    def peer_get_sha256() -> object:
        raw.fget_object(BUCKET, key_peer, str(dest))
        return sha256_file(dest)

    return [
        ("ours_put", lambda: store.put_file(key_ours, src)),
        ("peer_put", lambda: raw.fput_object(BUCKET, key_peer, str(src), part_size=part)),
        ("ours_get", lambda: store.get_file(key_ours, dest)),
        ("peer_get", lambda: raw.fget_object(BUCKET, key_peer, str(dest))),
        ("peer_get_sha256", peer_get_sha256),
    ]


def _measure(server: S3Server, work: Path, sizes_mb: list[int], rounds: int) -> dict[str, object]:
    settings = server.settings(bucket=BUCKET)
    store = ObjectStore(settings)
    store.ensure_bucket()
    raw = Minio(server.endpoint, access_key=server.access_key, secret_key=server.secret_key, secure=False)
    part = settings.part_size_bytes
    warm = _random_file(work / "warm.bin", 4 * MB)
    store.put_file("bench/warm", warm)  # the first PUT after start grows a volume: keep it out
    raw.fput_object(BUCKET, "bench/warm-raw", str(warm), part_size=part)

    per_size: dict[str, object] = {}
    rows: list[dict[str, object]] = []
    worst = float("inf")
    for size_mb in sizes_mb:
        size = size_mb * MB
        src = _random_file(work / f"src-{size_mb}.bin", size)
        best = {"ours_put": 0.0, "peer_put": 0.0, "ours_get": 0.0, "peer_get": 0.0, "peer_get_sha256": 0.0}
        for round_index in range(rounds):
            key_ours, key_peer = f"bench/ours-{size_mb}-{round_index}", f"bench/peer-{size_mb}-{round_index}"
            dest = work / "dest.bin"
            steps = _steps(store, raw, part, src, dest, key_ours, key_peer)
            if round_index % 2:  # alternate who goes first
                steps = [steps[1], steps[0], steps[3], steps[2], steps[4]]
            for name, action in steps:
                best[name] = max(best[name], _mb_per_s(action, size))
                dest.unlink(missing_ok=True)
            store.delete([key_ours, key_peer])
        src.unlink()
        put_ratio = best["ours_put"] / best["peer_put"]
        get_ratio = best["ours_get"] / best["peer_get"]
        worst = min(worst, put_ratio, get_ratio)
        per_size[f"{size_mb}MB"] = {
            **{f"{name}_mb_s": round(value, 1) for name, value in best.items()},
            "put_ratio": round(put_ratio, 3),
            "get_ratio": round(get_ratio, 3),
        }
        for op, ratio in (("put", put_ratio), ("get", get_ratio)):
            rows.append(
                {
                    "figure": f"object store {op} {size_mb} MB (MB/s)",
                    "ours": round(best[f"ours_{op}"], 1),
                    "peer": round(best[f"peer_{op}"], 1),
                    "ratio": round(ratio, 3),
                    "target": f">= {TARGET_RATIO}",
                    "met": ratio >= TARGET_RATIO,
                }
            )
    return {
        "server": "SeaweedFS (weed mini) on loopback",
        "part_size_bytes": part,
        "rounds": rounds,
        "sizes": per_size,
        "worst_ratio": round(worst, 3),
        "target": f">= {TARGET_RATIO} (put and get, every size)",
        "meets_target": worst >= TARGET_RATIO,
        "rows": rows,
    }


def run(*, quick: bool = False) -> dict[str, object]:
    sizes_mb, rounds = ([8, 32], 2) if quick else ([8, 256], 3)
    with tempfile.TemporaryDirectory(prefix="rushes-bench-s3-") as tmp:
        work = Path(tmp)
        server = S3Server.create(work / "s3")
        server.start(work / "s3.log", die_with_parent=True)
        try:
            files = work / "files"
            files.mkdir()
            return _measure(server, files, sizes_mb, rounds)
        finally:
            server.stop()
