"""The QC job and consumer against real NATS and S3: a hand-built AssetEnhanced whose rendition a
test builder made and stored, and every kind of bad input (missing, mismatched, truncated)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from qc_test_builders import encode, frames_of, truncate
from rushes.events.v1 import events_pb2
from rushes_config import MediaLimits
from rushes_events import Consumer, EventBus, decode_event, new_envelope
from rushes_qc import synthetic
from rushes_qc.consumer import ENHANCED, QcHandler
from rushes_qc.job import QC_SUBJECT, QcJob
from rushes_storage import ObjectStore, asset_key

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def job(nats_server, s3_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    store = ObjectStore(s3_server.settings(bucket="qc-job-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="qc-test")
    await bus.ensure_stream()
    yield QcJob(store, bus, None, MediaLimits(), work_dir=tmp_path_factory.mktemp("qc"))
    await bus.close()


def _enhanced(
    asset_id: str, *renditions: events_pb2.Rendition, skipped: str = ""
) -> events_pb2.AssetEnhanced:
    envelope = new_envelope(
        "rushes.v1.asset.enhanced", asset_id=asset_id, producer="test", producer_version="0"
    )
    return events_pb2.AssetEnhanced(envelope=envelope, renditions=list(renditions), skipped_reason=skipped)


def _store_pair(job: QcJob, tmp: Path, source_frames, rendition_frames, *, fix: str = "denoise",  # type: ignore[no-untyped-def]
                scale: float = 1.0, rendition_file: Path | None = None) -> tuple[str, events_pb2.Rendition]:  # fmt: skip
    asset_id = uuid.uuid4().hex
    source_key = asset_key(asset_id, "proxy.mp4")
    job.store.put_file(source_key, encode(tmp / f"{asset_id}-s.mp4", source_frames))
    object_key = asset_key(asset_id, "renditions", fix, "v1.mp4")
    path = rendition_file or encode(tmp / f"{asset_id}-r.mp4", rendition_frames)
    job.store.put_file(object_key, path)
    return asset_id, events_pb2.Rendition(
        fix=fix, object_key=object_key, source_key=source_key, version=1, scale=scale, confidence=0.9
    )


async def test_an_enhanced_asset_is_checked_through_the_bus(job: QcJob, tmp_path: Path) -> None:
    """Publish AssetEnhanced; the consumer runs the job; asset.qc arrives with a fail for the
    halo rendition (reasons, failing metrics, a stored diff map and report) and a pass for the clean one."""
    source = synthetic.scene(synthetic.SceneSpec(seed=5))
    asset_id, halo = _store_pair(job, tmp_path, source, synthetic.halo(source), fix="upscale")
    clean_key = asset_key(asset_id, "renditions", "denoise", "v1.mp4")
    job.store.put_file(clean_key, encode(tmp_path / "clean.mp4", source))
    clean = events_pb2.Rendition(
        fix="denoise", object_key=clean_key, source_key=halo.source_key, version=1, scale=1.0
    )
    received: asyncio.Queue[events_pb2.AssetQc] = asyncio.Queue()

    async def on_qc(msg) -> None:  # type: ignore[no-untyped-def]
        event = decode_event(msg.subject, msg.data)
        if event.envelope.asset_id == asset_id:
            await received.put(event)

    subscription = await job.bus.nc.subscribe(QC_SUBJECT, cb=on_qc)
    stop = asyncio.Event()
    consumer = Consumer(job.bus, stage="qc", durable="qc-test", filter_subjects=[ENHANCED],
                        handler=QcHandler(job, job.bus), settings=job.bus.settings, fetch_timeout_s=0.5)  # fmt: skip
    await consumer.ensure()
    runner = asyncio.create_task(consumer.run(stop))
    try:
        await job.bus.publish(_enhanced(asset_id, halo, clean), msg_id=f"enhanced-{asset_id}")
        event = await asyncio.wait_for(received.get(), timeout=120)
    finally:
        stop.set()
        await runner
        await subscription.unsubscribe()
    assert event.verdict == "fail" and event.needs_review and event.run.stage == "qc"
    bad, good = event.renditions
    assert bad.verdict == "fail" and bad.fix == "upscale" and not bad.error
    (shot,) = bad.shots
    assert any(r.startswith("halo_overshoot=") for r in shot.reasons)
    assert "halo_overshoot" in {f.metric for f in shot.failures}
    assert shot.diff_maps and job.store.get_bytes(shot.diff_maps[0])[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(job.store.get_bytes(bad.report_key))
    assert report["verdict"] == "fail" and len(report["frames"]["0"]["series"]["ssim"]) == 40
    assert good.verdict == "pass" and not good.needs_review and good.metrics["ssim_mean"] > 0.95
    assert "identity: not checked (no Triton configured)" in good.notes
    assert job.load_latest(asset_id) == event


async def test_no_renditions_is_a_skipped_result(job: QcJob) -> None:
    event = await job.run(_enhanced(uuid.uuid4().hex, skipped="no_flags"))
    assert event.skipped_reason == "no_flags" and not event.renditions and event.verdict == ""
    bare = await job.run(_enhanced(uuid.uuid4().hex))
    assert bare.skipped_reason == "no_renditions" and not bare.needs_review


async def test_a_rendition_missing_from_storage_fails_clearly(job: QcJob, tmp_path: Path) -> None:
    source = frames_of(6, 64, 48)
    asset_id, rendition = _store_pair(job, tmp_path, source, source)
    job.store.delete([rendition.object_key])
    (result,) = (await job.run(_enhanced(asset_id, rendition))).renditions
    assert result.verdict == "fail" and result.needs_review and not result.shots
    assert result.error == f"rendition_missing: object {rendition.object_key} is not in the store"


async def test_a_size_mismatch_fails_clearly(job: QcJob, tmp_path: Path) -> None:
    asset_id, rendition = _store_pair(job, tmp_path, frames_of(6, 64, 48), frames_of(6, 64, 64))
    (result,) = (await job.run(_enhanced(asset_id, rendition))).renditions
    assert result.verdict == "fail"
    assert result.error.startswith(
        "size_mismatch: the rendition is 64x64 (aspect 1.000) but the source window is 64x48"
    )


async def test_a_frame_count_mismatch_fails_clearly(job: QcJob, tmp_path: Path) -> None:
    asset_id, rendition = _store_pair(job, tmp_path, frames_of(20, 64, 48), frames_of(12, 64, 48))
    (result,) = (await job.run(_enhanced(asset_id, rendition))).renditions
    assert result.error == "frame_count_mismatch: the source has 20 frames, the rendition 12"


async def test_a_truncated_rendition_fails_clearly(job: QcJob, tmp_path: Path) -> None:
    frames = synthetic.scene(synthetic.SceneSpec(seed=2, frames=30))
    whole = encode(tmp_path / "whole.mp4", frames)
    asset_id, rendition = _store_pair(job, tmp_path, frames, frames,
                                      rendition_file=truncate(whole, tmp_path / "cut.mp4", 0.6))  # fmt: skip
    (result,) = (await job.run(_enhanced(asset_id, rendition))).renditions
    assert result.verdict == "fail" and result.error.startswith(
        "rendition_unreadable: the rendition is unreadable ("
    )


async def test_redelivery_publishes_the_same_event_id(job: QcJob, tmp_path: Path) -> None:
    source = frames_of(8, 64, 48)
    asset_id, rendition = _store_pair(job, tmp_path, source, source)
    first = await job.run(_enhanced(asset_id, rendition))
    second = await job.run(_enhanced(asset_id, rendition))
    assert first.renditions == second.renditions  # deterministic: same verdicts, same keys
    duplicate = await job.bus.publish(second, msg_id=_msg_id(asset_id, rendition))
    assert duplicate


def _msg_id(asset_id: str, rendition: events_pb2.Rendition) -> str:
    from rushes_events import message_id
    from rushes_qc.job import STAGE, _signature

    return message_id(asset_id, STAGE, _signature([rendition], ""))
