"""The identity check against the real face detector on Triton: a face the fix moved is a failure,
the same face in place passes, and the report names the model that saw them."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from qc_test_builders import encode
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits, TritonSettings
from rushes_events import EventBus
from rushes_inference import TritonClient
from rushes_qc.job import QcJob
from rushes_storage import ObjectStore, asset_key
from rushes_testing.faces import face_scene

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
CANVAS = 320
FACE = 160


def _clip(x: int, frames: int = 12) -> list[np.ndarray]:
    image, _ = face_scene(FACE, CANVAS, (x, 70))
    return [image.copy() for _ in range(frames)]


async def test_a_moved_face_fails_identity_and_a_kept_face_passes(  # type: ignore[no-untyped-def]
    nats_server, s3_server, triton_server, tmp_path: Path
) -> None:
    store = ObjectStore(s3_server.settings(bucket="qc-identity-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="qc-identity-test")
    triton = TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=120.0))
    job = QcJob(store, bus, triton, MediaLimits(), work_dir=tmp_path, face_ready_timeout_s=120.0)
    asset_id = uuid.uuid4().hex
    source_key = asset_key(asset_id, "proxy.mp4")
    store.put_file(source_key, encode(tmp_path / "source.mp4", _clip(60)))
    results = {}
    try:
        for name, x in (("kept", 60), ("moved", 110)):
            key = asset_key(asset_id, "renditions", "upscale", f"{name}.mp4")
            store.put_file(key, encode(tmp_path / f"{name}.mp4", _clip(x)))
            rendition = events_pb2.Rendition(fix="upscale", object_key=key, source_key=source_key, version=1)
            results[name] = await job.check(asset_id, rendition, [])
    finally:
        await triton.close()
        await bus.close()
    kept, moved = results["kept"], results["moved"]
    assert any(n.startswith("identity: faces by face_detector ") and "no landmarks" in n for n in kept.notes)
    assert kept.shots[0].metrics["faces_checked"] >= 1
    assert kept.shots[0].metrics["identity_drift"] < 0.1 and kept.shots[0].metrics["face_size_change"] < 0.1
    assert "identity_drift" not in {f.metric for f in kept.shots[0].failures}
    drift = {f.metric: f for f in moved.shots[0].failures}.get("identity_drift")
    assert drift is not None and drift.verdict == "fail" and drift.value > 0.25, moved.shots[0].metrics
    assert moved.verdict == "fail" and moved.needs_review
