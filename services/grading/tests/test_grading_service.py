"""GradingService and the JetStream handler against real NATS and S3 (no Triton needed)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes.grading.v1 import grading_service_pb2 as pb
from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_config import MediaLimits
from rushes_events import Delivery, EventBus, new_envelope
from rushes_grading import colour_math, synthetic
from rushes_grading.consumer import GradingHandler
from rushes_grading.job import GradingJob
from rushes_grading.servicer import GradingServicer
from rushes_grpc import client_channel, start_server
from rushes_media import make_proxy, probe
from rushes_storage import ObjectStore, asset_key, project_key
from rushes_testing.media_builders import write_video

pytestmark = pytest.mark.integration
LIMITS = MediaLimits()
REFERENCE = synthetic.scene(320, 180, seed=11)
CAST = {"gains": (1.25, 1.0, 0.75), "exposure_stops": -0.6}


@pytest.fixture(scope="module")
async def service(nats_server, s3_server, tmp_path_factory):
    store = ObjectStore(s3_server.settings(bucket="grading-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="grading-test")
    await bus.ensure_stream()
    job = GradingJob(store, bus, LIMITS, work_dir=tmp_path_factory.mktemp("grading"))
    servicer = GradingServicer(job)
    server = await start_server(
        name="grading-test",
        address="127.0.0.1:0",
        register=lambda s: pb_grpc.add_GradingServiceServicer_to_server(servicer, s),
        service_names=["rushes.grading.v1.GradingService"],
    )
    async with client_channel(f"127.0.0.1:{server.port}") as channel:
        yield job, pb_grpc.GradingServiceStub(channel), tmp_path_factory.mktemp("media")
    await server.stop(1.0)
    await bus.close()
    job.close()


def _delivery(event) -> Delivery:
    """A delivery as the Consumer hands it over (the handler is driven directly)."""
    return Delivery(
        subject=event.envelope.type,
        event=event,
        envelope=event.envelope,
        num_delivered=1,
        stream_seq=1,
        _msg=None,  # type: ignore[arg-type]  # the handler never extends its lease
    )


async def _ingest(job: GradingJob, media: Path, frames: list[np.ndarray], *, project: str = "", transfer: str = "",
                  shots: list[tuple[float, float]] | None = None) -> str:  # fmt: skip
    """An asset as grading sees it after ingest (and tagging when `shots` are given)."""
    asset_id = uuid.uuid4().hex
    height, width = frames[0].shape[:2]
    original = write_video(
        media / f"{asset_id}.mp4", frames, width=width, height=height, codec_options={"crf": "12"}
    )
    proxy = media / f"{asset_id}_proxy.mp4"
    make_proxy(original, proxy, limits=LIMITS)
    technical = probe(original, LIMITS)
    if transfer:
        technical.color_transfer = transfer
    key = asset_key(asset_id, "proxy.mp4")
    job.store.put_file(key, proxy)
    ingested = events_pb2.AssetIngested(
        envelope=new_envelope(
            "asset.ingested", asset_id=asset_id, producer="ingest", producer_version="t", project=project
        ),
        technical=technical,
        objects={"proxy": key},
    )
    handler = GradingHandler(job)
    await handler(_delivery(ingested))
    if shots is not None:
        tagged = events_pb2.AssetTagged(
            envelope=new_envelope(
                "asset.tagged", asset_id=asset_id, producer="tagging", producer_version="t", project=project
            ),
            tags_version=1,
        )
        for index, (start, end) in enumerate(shots):
            tagged.shots.append(asset_pb2.Shot(index=index, start_s=start, end_s=end))
        await handler(_delivery(tagged))
    return asset_id


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()


async def test_match_look_grades_each_shot_and_stores_a_cube(service) -> None:
    job, stub, media = service
    cast = synthetic.with_cast(REFERENCE, **CAST)
    frames = [REFERENCE] * 25 + [cast] * 25  # two shots: the second with a known cast
    target = await _ingest(job, media, frames, shots=[(0.0, 1.0), (1.0, 2.0)])
    reference = pb.Reference(image=_png(REFERENCE))
    response = await stub.MatchLook(pb.MatchLookRequest(reference=reference, asset_ids=[target]), timeout=120)
    (graded,) = response.assets
    assert graded.envelope.type == "rushes.v1.asset.graded" and graded.envelope.asset_id == target
    assert [g.shot_index for g in graded.grades] == [0, 1]
    second = graded.grades[1]
    assert second.delta_e_before > 4.0
    assert second.predicted_delta_e <= 2.0
    assert 0.7 <= second.confidence <= 1.0 and not second.needs_review
    assert second.model == "rushes.grading.stats_transfer" and second.reasons
    assert second.params.exposure_stops > 0.3  # the cast was under-exposed
    cube = job.store.get_bytes(second.lut)
    assert second.lut.startswith(f"assets/{target}/grading/{graded.look_id}/") and b"LUT_3D_SIZE 33" in cube
    assert job.store.stat(second.preview) is not None
    (step,) = graded.continuity
    assert step.delta_e_after < step.delta_e_before
    # The same request again: same look, same stored result (idempotent, deduplicated on the bus).
    again = await stub.MatchLook(pb.MatchLookRequest(reference=reference, asset_ids=[target]), timeout=120)
    assert again.assets[0].look_id == graded.look_id and again.assets[0].envelope.id == graded.envelope.id


async def test_monochrome_shot_goes_to_review(service) -> None:
    job, stub, media = service
    target = await _ingest(job, media, [synthetic.monochrome(REFERENCE)] * 20)
    response = await stub.MatchLook(
        pb.MatchLookRequest(reference=pb.Reference(image=_png(REFERENCE)), asset_ids=[target]), timeout=120
    )
    (grade,) = response.assets[0].grades
    assert grade.needs_review and grade.confidence < 0.7 and "target_monochrome" in grade.reasons
    assert response.review_count == 1


async def test_reference_frame_of_another_asset_and_preview(service) -> None:
    job, stub, media = service
    hero = await _ingest(job, media, [REFERENCE] * 20)
    target = await _ingest(job, media, [synthetic.with_cast(REFERENCE, **CAST)] * 20)
    reference = pb.Reference(frame=pb.AssetFrame(asset_id=hero, time_s=0.4))
    response = await stub.MatchLook(pb.MatchLookRequest(reference=reference, asset_ids=[target]), timeout=120)
    graded = response.assets[0]
    assert graded.reference == f"asset:{hero}@0.400"
    preview = await stub.Preview(
        pb.PreviewRequest(
            asset_id=target, shot_index=0, look_id=graded.look_id, layout="side_by_side", size=320
        ),
        timeout=60,
    )
    picture = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(preview.jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
    assert (preview.width, preview.height) == (picture.shape[1], picture.shape[0])
    assert preview.width > 2.5 * preview.height  # before | after | reference
    # The "after" panel (middle third) is much closer to the reference than the "before" one.
    third = preview.width // 3
    small = cv2.resize(REFERENCE, (third - 4, preview.height), interpolation=cv2.INTER_AREA)
    before = picture[:, : third - 4]
    after = picture[:, third : 2 * third - 4][:, : small.shape[1]]
    assert (
        colour_math.mean_delta_e(after[30:], small[30:])
        < colour_math.mean_delta_e(before[30:], small[30:]) / 2
    )
    # Interactive parameters override the stored grade; zoom crops.
    params = events_pb2.AssetGraded.GradeParams(exposure_stops=1.0)
    zoomed = await stub.Preview(
        pb.PreviewRequest(asset_id=target, time_s=0.2, params=params, zoom=4), timeout=60
    )
    assert zoomed.width <= 320 // 4 + 2


async def test_project_reference_grades_tagged_assets_automatically(service) -> None:
    job, stub, media = service
    project = f"film-{uuid.uuid4().hex[:8]}"
    await stub.SetProjectReference(
        pb.SetProjectReferenceRequest(project=project, reference=pb.Reference(image=_png(REFERENCE))),
        timeout=60,
    )
    got = await stub.GetProjectReference(pb.GetProjectReferenceRequest(project=project), timeout=10)
    assert got.configured and got.key == project_key(project, "look", "look.json")
    subscription = await job.bus.nc.subscribe("rushes.v1.asset.graded")
    target = await _ingest(
        job, media, [synthetic.with_cast(REFERENCE, **CAST)] * 20, project=project, shots=[(0.0, 0.8)]
    )
    message = await asyncio.wait_for(_next_for(subscription, target), timeout=60)
    graded = events_pb2.AssetGraded.FromString(message.data)
    assert graded.project_look == project and graded.grades[0].predicted_delta_e <= 2.0
    await subscription.unsubscribe()
    none = await stub.GetProjectReference(
        pb.GetProjectReferenceRequest(project="no-such-project"), timeout=10
    )
    assert not none.configured


async def _next_for(subscription, asset_id: str):
    while True:
        message = await subscription.next_msg(timeout=60)
        if events_pb2.AssetGraded.FromString(message.data).envelope.asset_id == asset_id:
            return message


async def test_hdr_asset_in_a_project_is_skipped_with_a_reason(service) -> None:
    job, stub, media = service
    project = f"hdr-{uuid.uuid4().hex[:8]}"
    await stub.SetProjectReference(
        pb.SetProjectReferenceRequest(project=project, reference=pb.Reference(image=_png(REFERENCE))),
        timeout=60,
    )
    target = await _ingest(
        job, media, [REFERENCE] * 10, project=project, transfer="smpte2084", shots=[(0.0, 0.4)]
    )
    graded = None
    for look in job.store.list_keys(asset_key(target, "grading") + "/"):
        if look.endswith("/graded.pb"):
            graded = events_pb2.AssetGraded.FromString(job.store.get_bytes(look))
    assert graded is not None and graded.skipped_reason == "hdr_transfer_unsupported" and not graded.grades


async def _expect(call, code: grpc.StatusCode, fragment: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    assert fragment in caught.value.details()


async def test_bad_input_gets_clear_errors(service) -> None:
    job, stub, media = service
    target = await _ingest(job, media, [REFERENCE] * 10)
    image = pb.Reference(image=_png(REFERENCE))
    unknown = uuid.uuid4().hex
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=image, asset_ids=[unknown]), timeout=30),
                  grpc.StatusCode.NOT_FOUND, "unknown to grading")  # fmt: skip
    late = pb.Reference(frame=pb.AssetFrame(asset_id=target, time_s=99.0))
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=late, asset_ids=[target]), timeout=30),
                  grpc.StatusCode.INVALID_ARGUMENT, "outside asset")  # fmt: skip
    for data, fragment in [
        (b"#!/bin/sh\necho not an image\n", "not an image"),
        (_png(REFERENCE)[:200], "corrupt"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
            + (200000).to_bytes(4, "big") * 2
            + b"\x08\x02\x00\x00\x00",
            "declares 200000x200000",
        ),
        (b"", "empty"),
    ]:
        bad = pb.Reference(image=data)
        await _expect(stub.MatchLook(pb.MatchLookRequest(reference=bad, asset_ids=[target]), timeout=30),
                      grpc.StatusCode.INVALID_ARGUMENT, fragment)  # fmt: skip
    await _expect(stub.MatchLook(pb.MatchLookRequest(asset_ids=[target]), timeout=30),
                  grpc.StatusCode.INVALID_ARGUMENT, "a reference is required")  # fmt: skip
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=image, asset_ids=[target], mode="x"), timeout=30),
                  grpc.StatusCode.INVALID_ARGUMENT, "unknown mode")  # fmt: skip
    sixteen_bit = cv2.imencode(".png", (REFERENCE.astype(np.uint16) * 257))[1].tobytes()
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=pb.Reference(image=sixteen_bit), asset_ids=[target]), timeout=30),
                  grpc.StatusCode.FAILED_PRECONDITION, "bit depth mismatch")  # fmt: skip
    hdr = await _ingest(job, media, [REFERENCE] * 10, transfer="arib-std-b67")
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=image, asset_ids=[hdr]), timeout=30),
                  grpc.StatusCode.FAILED_PRECONDITION, "HLG")  # fmt: skip
    rejected_id = uuid.uuid4().hex
    rejected = events_pb2.AssetRejected(
        envelope=new_envelope("asset.rejected", asset_id=rejected_id, producer="ingest", producer_version="t"),
        reason_code="truncated", reason="clip.mp4 is cut short",
    )  # fmt: skip
    await GradingHandler(job)(_delivery(rejected))  # acked; nothing of a rejected file is stored
    assert job.grades.store.list_keys(asset_key(rejected_id)) == []
    await _expect(stub.MatchLook(pb.MatchLookRequest(reference=image, asset_ids=[rejected_id]), timeout=30),
                  grpc.StatusCode.NOT_FOUND, "rejected by ingest")  # fmt: skip
    for request, fragment in [
        (pb.PreviewRequest(asset_id=target, size=100000), "size 100000"),
        (pb.PreviewRequest(asset_id=target, zoom=50), "zoom 50"),
        (pb.PreviewRequest(asset_id=target, time_s=-1), "outside asset"),
        (pb.PreviewRequest(asset_id=target, shot_index=7), "no shot 7"),
        (pb.PreviewRequest(asset_id=target, layout="grid"), "unknown layout"),
        (
            pb.PreviewRequest(asset_id=target, params=events_pb2.AssetGraded.GradeParams(exposure_stops=20)),
            "exposure_stops",
        ),
        (
            pb.PreviewRequest(asset_id=target, params=events_pb2.AssetGraded.GradeParams(wb_gains=[1, 2])),
            "wb_gains",
        ),
        (pb.PreviewRequest(asset_id="../etc"), "invalid asset id"),
    ]:
        await _expect(stub.Preview(request, timeout=30), grpc.StatusCode.INVALID_ARGUMENT, fragment)
    await _expect(stub.SetProjectReference(pb.SetProjectReferenceRequest(project="a\x00b", reference=image), timeout=30),
                  grpc.StatusCode.INVALID_ARGUMENT, "invalid project name")  # fmt: skip
