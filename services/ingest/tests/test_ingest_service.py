"""IngestService against a real nats-server and a real S3 server.

Happy path, content-hash dedupe, and the bad-input promise: a clear INVALID_ARGUMENT, a rejection
event, and nothing left in the store.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from rushes.events.v1 import events_pb2
from rushes.ingest.v1 import ingest_service_pb2 as pb
from rushes_testing.media import make_clip

pytestmark = pytest.mark.integration


async def _chunks(
    path: Path, *, filename: str | None = None, declared: int | None = None, sha: str = ""
) -> AsyncIterator[pb.IngestFileRequest]:
    data = path.read_bytes()
    yield pb.IngestFileRequest(
        header=pb.IngestFileHeader(
            filename=filename if filename is not None else path.name,
            project="tests",
            size_bytes=len(data) if declared is None else declared,
            sha256=sha,
        )
    )
    for start in range(0, len(data), 256 * 1024):
        yield pb.IngestFileRequest(chunk=data[start : start + 256 * 1024])


async def _events(harness, subject: str, asset_id: str) -> list:
    """Every stored event on `subject` for `asset_id` (an ephemeral consumer from the start)."""
    sub = await harness.bus.js.pull_subscribe(
        subject, durable=None, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    found = []
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                break
            for msg in msgs:
                await msg.ack()
                event = (
                    events_pb2.AssetIngested() if subject.endswith("ingested") else events_pb2.AssetRejected()
                )
                event.ParseFromString(msg.data)
                if event.envelope.asset_id == asset_id:
                    found.append(event)
    finally:
        await sub.unsubscribe()
    return found


def _keys(harness, asset_id: str) -> list[str]:
    return harness.store.list_keys(f"assets/{asset_id}/")


async def test_ingest_stores_original_and_derived_files_and_announces_them(ingest_service, tmp_path) -> None:
    clip = make_clip(tmp_path / "A001_C002.mp4", seconds=2, width=640, height=360, seed=1)
    response = await ingest_service.stub.IngestFile(_chunks(clip))
    result = response.result
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()

    assert result.asset_id == sha[:32]
    assert not result.duplicate
    assert result.source.filename == "A001_C002.mp4" and result.source.sha256 == sha
    assert (result.technical.width, result.technical.height) == (640, 360)
    assert result.technical.duration_s == pytest.approx(2.0, abs=0.1)
    assert result.technical.audio[0].sample_rate == 48000
    # make_clip's AAC track is stereo: its channels are kept apart for per-speaker ASR too
    assert result.technical.audio[0].channels == 2
    assert set(result.objects) == {"original", "proxy", "poster", "audio", "audio_channels"}
    stored = sorted(_keys(ingest_service, result.asset_id))
    assert sorted([*result.objects.values(), f"assets/{result.asset_id}/ingest.json"]) == stored
    original = ingest_service.store.stat(result.objects["original"])
    assert original is not None and original.sha256 == sha

    events = await _events(ingest_service, "rushes.v1.asset.ingested", result.asset_id)
    assert len(events) == 1
    assert events[0].envelope.producer == "ingest" and events[0].envelope.trace_id
    assert dict(events[0].objects) == dict(result.objects)
    assert events[0].run.stage == "ingest"


async def test_same_bytes_twice_is_one_asset_and_one_event(ingest_service, tmp_path) -> None:
    clip = make_clip(tmp_path / "twice.mp4", seconds=1, seed=2)
    first = (await ingest_service.stub.IngestFile(_chunks(clip))).result
    copy = tmp_path / "renamed_copy.mp4"
    copy.write_bytes(clip.read_bytes())
    second = (await ingest_service.stub.IngestFile(_chunks(copy))).result

    assert second.asset_id == first.asset_id
    assert second.duplicate and not first.duplicate
    assert second.source.filename == "twice.mp4"  # the asset keeps its first name
    assert len(await _events(ingest_service, "rushes.v1.asset.ingested", first.asset_id)) == 1


async def test_audio_only_recorder_file_is_footage(ingest_service, tmp_path) -> None:
    import av
    import numpy as np

    wav = tmp_path / "sound_roll_01.wav"
    with av.open(str(wav), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=48000, layout="stereo")
        samples = (np.sin(np.linspace(0, 2000, 48000 * 2)) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.stack([samples, samples]).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    result = (await ingest_service.stub.IngestFile(_chunks(wav))).result
    assert not result.technical.has_video
    assert set(result.objects) == {"original", "audio", "audio_channels"}
    assert result.technical.audio[0].channels == 2


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (b"", "empty.mp4", "empty"),
        (b"just some text, not a movie\n" * 20, "notes.mp4", "media"),
        (
            b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
            "list.mp4",
            "playlist",
        ),
    ],
)
async def test_bad_files_are_rejected_announced_and_leave_nothing(
    ingest_service, tmp_path, content, name, needle
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    asset_id = hashlib.sha256(content).hexdigest()[:32]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ingest_service.stub.IngestFile(_chunks(path))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in caught.value.details().lower()
    assert _keys(ingest_service, asset_id) == []
    rejected = await _events(ingest_service, "rushes.v1.asset.rejected", asset_id)
    assert rejected and rejected[-1].reason_code
    assert list(ingest_service.spool_dir.iterdir()) == []


async def test_truncated_mp4_is_rejected(ingest_service, tmp_path) -> None:
    clip = make_clip(tmp_path / "whole.mp4", seconds=2, seed=3)
    truncated = tmp_path / "cut_short.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ingest_service.stub.IngestFile(_chunks(truncated))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    asset_id = hashlib.sha256(truncated.read_bytes()).hexdigest()[:32]
    assert _keys(ingest_service, asset_id) == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "evil\x07name.mp4", "sub/dir.mp4", ""])
async def test_hostile_file_names_are_refused(ingest_service, tmp_path, name) -> None:
    clip = make_clip(tmp_path / "ok.mp4", seconds=1, seed=4)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ingest_service.stub.IngestFile(_chunks(clip, filename=name))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _keys(ingest_service, hashlib.sha256(clip.read_bytes()).hexdigest()[:32]) == []


async def test_upload_shorter_than_declared_is_refused(ingest_service, tmp_path) -> None:
    clip = make_clip(tmp_path / "short.mp4", seconds=1, seed=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ingest_service.stub.IngestFile(_chunks(clip, declared=clip.stat().st_size + 10))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "truncated" in caught.value.details()


async def test_register_object_already_in_the_bucket(ingest_service, tmp_path) -> None:
    clip = make_clip(tmp_path / "dropped.mp4", seconds=1, seed=6)
    await asyncio.to_thread(ingest_service.store.put_file, "incoming/dropped.mp4", clip)
    response = await ingest_service.stub.RegisterObject(pb.RegisterObjectRequest(key="incoming/dropped.mp4"))
    assert response.result.asset_id == hashlib.sha256(clip.read_bytes()).hexdigest()[:32]
    assert response.result.source.filename == "dropped.mp4"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ingest_service.stub.RegisterObject(pb.RegisterObjectRequest(key="incoming/missing.mp4"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _hostile_cases(tmp_dir: Path):
    from rushes_testing.hostile import build_hostile_corpus

    return build_hostile_corpus(tmp_dir)


async def test_every_hostile_file_is_rejected_announced_and_leaves_nothing(ingest_service, tmp_path) -> None:
    cases = _hostile_cases(tmp_path / "hostile")
    assert len(cases) >= 15
    for case in cases:
        content = case.path.read_bytes()
        asset_id = hashlib.sha256(content).hexdigest()[:32]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await ingest_service.stub.IngestFile(_chunks(case.path), timeout=60)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, case.name
        assert f"({case.expected_code})" in caught.value.details(), (case.name, caught.value.details())
        assert _keys(ingest_service, asset_id) == [], case.name
        rejected = await _events(ingest_service, "rushes.v1.asset.rejected", asset_id)
        assert rejected and rejected[-1].reason_code == case.expected_code, case.name
    assert list(ingest_service.spool_dir.iterdir()) == []
