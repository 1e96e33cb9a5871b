"""The tagging job against real S3, NATS and Triton (faces), on awkward but legal footage and on
footage that breaks mid-file: a result, or a clear per-asset MediaRejected — never a crash."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits, TritonSettings
from rushes_events import EventBus, new_envelope
from rushes_inference import TritonClient
from rushes_media import MediaRejected, probe
from rushes_storage import ObjectStore, asset_key
from rushes_tagging.job import TaggingJob
from rushes_tagging.presets import get_preset
from rushes_testing.media_builders import solid_frames, write_corrupt_middle, write_video

pytestmark = pytest.mark.integration
LIMITS = MediaLimits()


@pytest.fixture(scope="module")
async def job(nats_server, s3_server, triton_server, tmp_path_factory):
    store = ObjectStore(s3_server.settings(bucket="tagging-job-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="tagging-test")
    await bus.ensure_stream()
    triton = TritonClient(TritonSettings(url=triton_server.grpc_url, timeout_s=120))
    yield TaggingJob(store, bus, triton, LIMITS, work_dir=tmp_path_factory.mktemp("tagging"))
    await triton.close()
    await bus.close()


def _ingested(job: TaggingJob, path: Path) -> events_pb2.AssetIngested:
    asset_id = uuid.uuid4().hex
    key = asset_key(asset_id, "original" + path.suffix)
    job.store.put_file(key, path)
    event = events_pb2.AssetIngested(
        envelope=new_envelope(
            "rushes.v1.asset.ingested", asset_id=asset_id, producer="test", producer_version="0"
        ),
        technical=probe(path, LIMITS),
    )
    event.objects["original"] = key
    return event


def _black(count: int) -> list[np.ndarray]:
    return [np.zeros((120, 160, 3), np.uint8) for _ in range(count)]


async def test_single_frame_video_is_one_shot(job: TaggingJob, tmp_path: Path) -> None:
    clip = write_video(tmp_path / "one.mp4", solid_frames(1, 160, 120), width=160, height=120)
    outcome = await job.run(_ingested(job, clip), get_preset(None), 1)
    assert [(s.start_frame, s.end_frame) for s in outcome.event.shots] == [(0, 1)]
    assert outcome.event.shots[0].keyframe


async def test_all_black_footage_is_one_shot_flagged_black(job: TaggingJob, tmp_path: Path) -> None:
    clip = write_video(tmp_path / "black.mp4", _black(50), width=160, height=120)
    outcome = await job.run(_ingested(job, clip), get_preset(None), 1)
    assert len(outcome.event.shots) == 1
    shot = outcome.event.shots[0]
    assert shot.values["exposure"].value.struct_value["verdict"] == "under"
    cues = shot.values["technical_cues"].value.struct_value
    assert "black_frames" in list(cues["detected"]) and cues["black_frame_fraction"] == 1.0


async def test_decoder_error_mid_file_is_a_clear_rejection(job: TaggingJob, tmp_path: Path) -> None:
    clip = write_corrupt_middle(tmp_path / "broken.mkv")
    event = _ingested(job, clip)
    with pytest.raises(MediaRejected) as caught:
        await job.run(event, get_preset(None), 1)
    assert caught.value.code in {"decode_error", "truncated"}
    assert job.tags.load(event.envelope.asset_id, 1) is None  # nothing half-stored


async def test_redelivery_republishes_the_stored_result(job: TaggingJob, tmp_path: Path) -> None:
    clip = write_video(tmp_path / "again.mp4", solid_frames(30, 160, 120), width=160, height=120)
    event = _ingested(job, clip)
    first = await job.run(event, get_preset(None), 1)
    second = await job.run(event, get_preset(None), 1)
    assert second.republished and second.event == first.event


async def test_the_event_carries_each_transitions_span(job: TaggingJob) -> None:
    """Cuts are empty spans at the shot's first frame; the fade into the last shot of the committed
    sample spans its fade-out, black and fade-in (frames 135-165 by construction), so an editor's
    timeline can rebuild it at its real length."""
    sample = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "samples" / "cuts_fade.mp4"
    outcome = await job.run(_ingested(job, sample), get_preset(None), 1)
    spans = [(s.transition_in, s.transition_start_frame, s.transition_end_frame) for s in outcome.event.shots]
    assert spans[:3] == [("start", 0, 0), ("cut", 50, 50), ("cut", 100, 100)]
    kind, start, end = spans[3]
    assert kind == "fade" and abs(start - 135) <= 2 and abs(end - 165) <= 2
