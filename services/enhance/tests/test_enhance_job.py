"""The enhance job, consumer and gRPC API against real S3 and NATS (the upscaler absent: the
classical path, announced). Triton's model path is in test_enhance_model_integration.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from enhance_media import noisy_frames, shaky_frames, write_bgr_clip
from rushes.asset.v1 import asset_pb2
from rushes.enhance.v1 import enhance_service_pb2 as pb
from rushes.enhance.v1 import enhance_service_pb2_grpc as pb_grpc
from rushes.events.v1 import events_pb2
from rushes_config import GrpcSettings, MediaLimits
from rushes_enhance.consumer import EnhanceHandler
from rushes_enhance.fixes import EnhanceRequestError, SourceUnavailable
from rushes_enhance.job import EnhanceJob
from rushes_enhance.servicer import SERVICE_NAME, EnhanceServicer
from rushes_enhance.settings import EnhanceSettings
from rushes_events import AssetFailed, Delivery, EventBus, new_envelope
from rushes_grpc import start_server
from rushes_storage import ObjectStore, asset_key

pytestmark = pytest.mark.integration
W, H, N, FPS = 128, 96, 40, 25


@pytest.fixture(scope="module")
async def bus(nats_server) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(nats_server.settings(), name="enhance-test")
    await bus.ensure_stream()
    yield bus
    await bus.close()


@pytest.fixture(scope="module")
def store(s3_server) -> ObjectStore:
    store = ObjectStore(s3_server.settings(bucket="enhance-job-tests"))
    store.ensure_bucket()
    return store


@pytest.fixture(scope="module")
def job(store: ObjectStore, bus: EventBus, tmp_path_factory: pytest.TempPathFactory) -> EnhanceJob:
    return EnhanceJob(store, bus, EnhanceSettings(), MediaLimits(), upscaler=None,
                      work_dir=tmp_path_factory.mktemp("enhance"))  # fmt: skip


@pytest.fixture(scope="module")
def proxy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shaky for the first half, shaky and noisy after (two shots)."""
    frames = list(shaky_frames(N, W, H, shake_px=2.5))
    noisy = [next(noisy_frames(f, 1, 8.0, seed=i)) for i, f in enumerate(frames[N // 2 :])]
    return write_bgr_clip(tmp_path_factory.mktemp("proxy") / "proxy.mp4", iter(frames[: N // 2] + noisy),
                          width=W, height=H, fps=FPS)  # fmt: skip


def new_asset(
    store: ObjectStore, proxy: Path | None, *, manifest_objects: dict[str, str] | None = None
) -> str:
    asset_id = uuid.uuid4().hex
    if proxy is not None:
        store.put_file(asset_key(asset_id, "proxy.mp4"), proxy, content_type="video/mp4")
    if manifest_objects is not None:
        store.put_bytes(
            asset_key(asset_id, "ingest.json"), json.dumps({"objects": manifest_objects}).encode()
        )
    return asset_id


def tagged_event(asset_id: str, shot_flags: list[list[str]], *, version: int = 1) -> events_pb2.AssetTagged:
    event = events_pb2.AssetTagged(
        envelope=new_envelope(
            "rushes.v1.asset.tagged", asset_id=asset_id, producer="test", producer_version="0"
        ),
        tags_version=version,
    )
    seconds = N / FPS / len(shot_flags)
    for index, flags in enumerate(shot_flags):
        shot = asset_pb2.Shot(index=index, start_s=index * seconds, end_s=(index + 1) * seconds)
        shot.flags.extend(asset_pb2.ShotFlag(name=f) for f in flags)
        event.shots.append(shot)
    event.flags.extend(sorted({f for flags in shot_flags for f in flags}))
    return event


class Published:
    """Core-NATS subscription on rushes.v1.asset.enhanced / stage_failed (JetStream publishes reach it)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bytes]] = []

    async def start(self, bus: EventBus) -> Published:
        async def collect(msg) -> None:  # type: ignore[no-untyped-def]
            self.events.append((msg.subject, msg.data))

        self.sub = await bus.nc.subscribe("rushes.v1.asset.>", cb=collect)
        return self

    async def of(self, subject: str, asset_id: str) -> list[bytes]:
        await asyncio.sleep(0.2)
        found = []
        for subj, data in self.events:
            if subj == subject:
                event = (
                    events_pb2.AssetEnhanced() if subject.endswith("enhanced") else events_pb2.StageFailed()
                )
                event.ParseFromString(data)
                if event.envelope.asset_id == asset_id:
                    found.append(data)
        return found


async def test_tagging_flags_become_renditions_per_shot(job: EnhanceJob, store: ObjectStore, bus: EventBus,
                                                        proxy_file: Path) -> None:  # fmt: skip
    published = await Published().start(bus)
    asset_id = new_asset(store, proxy_file)
    event = tagged_event(asset_id, [["needs_stabilization"], ["needs_stabilization", "needs_denoise"]])
    result = await job.on_tagged(event)
    by_fix = {r.fix: r for r in result.renditions}
    assert set(by_fix) == {"stabilize", "denoise"} and not result.skipped_reason
    stab, den = by_fix["stabilize"], by_fix["denoise"]
    assert list(stab.shot_indices) == [] and list(den.shot_indices) == [1]  # all shots -> whole clip
    assert stab.object_key == asset_key(asset_id, "renditions", "stabilize", "v1.mp4") and stab.version == 1
    assert den.object_key == asset_key(asset_id, "renditions", "denoise", "v1.mp4")
    assert stab.source_key == asset_key(asset_id, "proxy.mp4") and len(stab.source_sha256) == 64
    assert stab.measurements["residual_jitter_px"] < stab.measurements["input_jitter_px"]
    assert den.measurements["noise_sigma_after"] < den.measurements["noise_sigma_before"]
    assert json.loads(stab.parameters_json)["smoothing_radius"] == 15 and stab.model_version
    assert 0 < stab.crop_fraction < 0.2 and stab.scale == 1.0
    for rendition in result.renditions:
        assert store.stat(rendition.object_key) is not None
    assert result.run.stage == "enhance"
    # A redelivery republishes the stored result: no new versions.
    again = await job.on_tagged(event)
    assert again == result
    assert len(store.list_keys(asset_key(asset_id, "renditions") + "/")) == 2
    assert len(await published.of("rushes.v1.asset.enhanced", asset_id)) >= 1
    await published.sub.unsubscribe()


async def test_a_redelivery_after_a_crash_reuses_the_claimed_versions(
    job: EnhanceJob, store: ObjectStore, proxy_file: Path
) -> None:
    """Killed after uploading a rendition but before announcing it: the redelivered job writes the
    same version again (the orphan replaced), never a second rendition for the same tagged event."""
    asset_id = new_asset(store, proxy_file)
    event = tagged_event(asset_id, [["needs_denoise"]])
    claimed = job.files.claim_versions(asset_id, "tags-v1", ["denoise"])
    orphan = asset_key(asset_id, "renditions", "denoise", "v1.mp4")
    store.put_bytes(orphan, b"half of a crashed job", content_type="video/mp4")
    # A request arriving meanwhile gets the version after the claim, not the claimed one.
    request = await job.on_request(asset_id, ["denoise", "denoise"], [])
    result = await job.on_tagged(event)
    assert claimed == {"denoise": 1}
    assert [(r.fix, r.version) for r in result.renditions] == [("denoise", 1)]
    assert [(r.fix, r.version) for r in request.renditions] == [("denoise", 2)]
    assert store.get_bytes(orphan) != b"half of a crashed job"
    assert sorted(store.list_keys(asset_key(asset_id, "renditions") + "/")) == [
        asset_key(asset_id, "renditions", "denoise", "v1.mp4"),
        asset_key(asset_id, "renditions", "denoise", "v2.mp4"),
    ]


async def test_a_failed_request_gives_its_versions_back(
    job: EnhanceJob, store: ObjectStore, bus: EventBus, proxy_file: Path, tmp_path: Path
) -> None:
    asset_id = new_asset(store, proxy_file)
    small = EnhanceJob(
        store, bus, EnhanceSettings(max_frames=N - 1), MediaLimits(), upscaler=None, work_dir=tmp_path
    )
    with pytest.raises(EnhanceRequestError):
        await small.on_request(asset_id, ["denoise"], [])
    assert [r.version for r in (await job.on_request(asset_id, ["denoise"], [])).renditions] == [1]


async def test_no_flags_is_a_completed_stage_with_a_reason(job: EnhanceJob, store: ObjectStore) -> None:
    asset_id = new_asset(store, None)
    result = await job.on_tagged(tagged_event(asset_id, [[], []]))
    assert result.skipped_reason == "no_flags" and not result.renditions and result.run.stage == "enhance"
    assert store.list_keys(asset_key(asset_id)) == [asset_key(asset_id, "enhance", "tags-v1.pb")]


async def test_requests_make_new_versions_and_announce_the_fallback(job: EnhanceJob, store: ObjectStore,
                                                                   proxy_file: Path) -> None:  # fmt: skip
    asset_id = new_asset(store, proxy_file)
    first = await job.on_request(asset_id, ["upscale"], [])
    second = await job.on_request(asset_id, ["upscale"], [])
    assert [r.version for r in (*first.renditions, *second.renditions)] == [1, 2]
    rendition = second.renditions[0]
    assert rendition.object_key.endswith("/renditions/upscale/v2.mp4") and rendition.scale == 2.0
    assert rendition.reasons[0].startswith("classical_fallback: no Triton upscaler configured")
    assert store.stat(asset_key(asset_id, "proxy.mp4")) is not None  # never overwritten or removed


async def test_missing_proxy_and_audio_only_are_clear_failures(job: EnhanceJob, store: ObjectStore) -> None:
    with pytest.raises(SourceUnavailable, match="has no proxy in storage"):
        await job.on_request(new_asset(store, None), ["denoise"], [])
    audio_only = new_asset(store, None, manifest_objects={"original": "x", "audio": "y"})
    with pytest.raises(SourceUnavailable, match="audio-only media"):
        await job.on_request(audio_only, ["denoise"], [])


async def test_unknown_shot_and_oversized_requests_leave_nothing_behind(
    job: EnhanceJob, store: ObjectStore, bus: EventBus, proxy_file: Path, tmp_path: Path
) -> None:
    asset_id = new_asset(store, proxy_file)
    store.put_bytes(
        asset_key(asset_id, "tagging", "v1.pb"), tagged_event(asset_id, [[], []]).SerializeToString()
    )
    with pytest.raises(EnhanceRequestError, match="has no shot 7"):
        await job.on_request(asset_id, ["denoise"], [7])
    small = EnhanceJob(
        store, bus, EnhanceSettings(max_frames=N - 1), MediaLimits(), upscaler=None, work_dir=tmp_path
    )
    with pytest.raises(EnhanceRequestError, match="RUSHES_ENHANCE_MAX_FRAMES"):
        await small.on_request(asset_id, ["denoise"], [1])
    assert store.list_keys(asset_key(asset_id, "renditions") + "/") == []


async def test_consumer_records_a_stage_failure_for_a_missing_proxy(job: EnhanceJob, bus: EventBus,
                                                                   store: ObjectStore) -> None:  # fmt: skip
    published = await Published().start(bus)
    asset_id = new_asset(store, None)
    event = tagged_event(asset_id, [["needs_denoise"]])
    delivery = Delivery("rushes.v1.asset.tagged", event, event.envelope, 1, 1, None)  # type: ignore[arg-type]
    with pytest.raises(AssetFailed, match="has no proxy"):
        await EnhanceHandler(job, bus)(delivery)
    failed = await published.of("rushes.v1.asset.stage_failed", asset_id)
    assert failed and b"has no proxy" in failed[0]
    await published.sub.unsubscribe()


async def test_grpc_api_maps_bad_input_to_status_codes(
    job: EnhanceJob, store: ObjectStore, proxy_file: Path
) -> None:
    servicer = EnhanceServicer(job)
    server = await start_server(
        name="enhance-test", address="127.0.0.1:0", service_names=[SERVICE_NAME], settings=GrpcSettings(),
        register=lambda s: pb_grpc.add_EnhanceServiceServicer_to_server(servicer, s),
    )  # fmt: skip
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = pb_grpc.EnhanceServiceStub(channel)
            asset_id = new_asset(store, proxy_file)
            cases = [
                (pb.EnhanceRequest(asset_id="nope", fixes=["denoise"]), grpc.StatusCode.INVALID_ARGUMENT, "32-character"),
                (pb.EnhanceRequest(asset_id=asset_id, fixes=["sharpen"]), grpc.StatusCode.INVALID_ARGUMENT, "unknown fix 'sharpen'"),
                (pb.EnhanceRequest(asset_id=asset_id), grpc.StatusCode.INVALID_ARGUMENT, "at least one fix"),
                (pb.EnhanceRequest(asset_id=uuid.uuid4().hex, fixes=["denoise"]), grpc.StatusCode.FAILED_PRECONDITION, "no proxy"),
            ]  # fmt: skip
            for request, code, message in cases:
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.Enhance(request, timeout=60)
                assert caught.value.code() == code and message in (caught.value.details() or "")
            response = await stub.Enhance(
                pb.EnhanceRequest(asset_id=asset_id, fixes=["denoise"]), timeout=120
            )
            assert [r.fix for r in response.renditions] == ["denoise"] and response.renditions[0].version == 1
    finally:
        await server.stop(0)
