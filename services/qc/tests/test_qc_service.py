"""QcService through a real gRPC server, with real NATS and S3: uploads of renditions made elsewhere,
CompareRendition recorded against the source asset, GetQc, the QC log, and every refusal."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from qc_test_builders import encode
from rushes.qc.v1 import qc_service_pb2 as pb
from rushes.qc.v1 import qc_service_pb2_grpc as pb_grpc
from rushes_config import MediaLimits
from rushes_events import EventBus
from rushes_grpc import client_channel, start_server
from rushes_qc import synthetic
from rushes_qc.job import QcJob
from rushes_qc.servicer import SERVICE_NAME, QcServicer
from rushes_storage import ObjectStore, asset_key

pytestmark = pytest.mark.integration
MAX_BYTES = 2 * 1024**2


@pytest.fixture(scope="module")
async def service(nats_server, s3_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    store = ObjectStore(s3_server.settings(bucket="qc-service-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="qc-service-test")
    await bus.ensure_stream()
    job = QcJob(
        store, bus, None, MediaLimits(max_bytes=MAX_BYTES), work_dir=tmp_path_factory.mktemp("qc-svc")
    )
    servicer = QcServicer(job)
    server = await start_server(
        name="qc-test",
        address="127.0.0.1:0",
        register=lambda s: pb_grpc.add_QcServiceServicer_to_server(servicer, s),
        service_names=[SERVICE_NAME],
    )
    async with client_channel(f"127.0.0.1:{server.port}") as channel:
        yield job, pb_grpc.QcServiceStub(channel)
    await server.stop(1.0)
    await bus.close()


def _source_asset(job: QcJob, tmp: Path, frames: synthetic.Frames) -> tuple[str, str]:
    """An asset as ingest leaves it: its original in the store under its id."""
    asset_id = uuid.uuid4().hex
    key = asset_key(asset_id, "original.mp4")
    job.store.put_file(key, encode(tmp / f"{asset_id}.mp4", frames))
    return asset_id, key


async def _chunks(
    header: pb.UploadRenditionHeader, *chunks: bytes
) -> AsyncIterator[pb.UploadRenditionRequest]:
    yield pb.UploadRenditionRequest(header=header)
    for chunk in chunks:
        yield pb.UploadRenditionRequest(chunk=chunk)


def _header(asset_id: str, data: bytes, **overrides: object) -> pb.UploadRenditionHeader:
    values: dict[str, object] = {"asset_id": asset_id, "filename": "Upscaled By Tool.MP4",
                                 "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    values.update(overrides)
    return pb.UploadRenditionHeader(**values)  # type: ignore[arg-type]


async def test_an_external_rendition_is_uploaded_compared_recorded_and_logged(
    service, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    job, stub = service
    source = synthetic.scene(synthetic.SceneSpec(seed=7))
    asset_id, source_key = _source_asset(job, tmp_path, source)
    data = encode(tmp_path / "halo.mp4", synthetic.halo(source)).read_bytes()

    uploaded = await stub.UploadRendition(_chunks(_header(asset_id, data), data[:1000], data[1000:]))
    sha = hashlib.sha256(data).hexdigest()
    assert uploaded.object_key == f"assets/{asset_id}/renditions/external/{sha[:16]}.mp4" and uploaded.created
    assert job.store.get_bytes(uploaded.object_key) == data
    again = await stub.UploadRendition(_chunks(_header(asset_id, data), data))
    assert again.object_key == uploaded.object_key and not again.created

    response = await stub.CompareRendition(pb.CompareRenditionRequest(
        asset_id=asset_id, source_key=source_key, rendition_key=uploaded.object_key, fix="upscale"))  # fmt: skip
    result = response.result
    assert result.verdict == "fail" and result.needs_review and result.object_key == uploaded.object_key
    (shot,) = result.shots
    assert "halo_overshoot" in {f.metric for f in shot.failures}
    assert result.report_key.startswith(f"assets/{asset_id}/qc/upscale/external-")
    assert shot.diff_maps and all(k.startswith(result.report_key[:-5] + "/") for k in shot.diff_maps)

    latest = (await stub.GetQc(pb.GetQcRequest(asset_id=asset_id))).qc
    assert (
        latest.envelope.asset_id == asset_id and latest.renditions[0] == result and latest.verdict == "fail"
    )

    rows = (await stub.ListQcChecks(pb.ListQcChecksRequest(asset_id=asset_id))).rows
    by_metric = {r.metric: r for r in rows}
    halo = by_metric["halo_overshoot"]
    assert halo.verdict == "fail" and halo.value > halo.threshold == halo.fail_threshold
    assert halo.review_threshold < halo.fail_threshold and halo.direction == "above"
    assert halo.rendition_key == uploaded.object_key and halo.fix == "upscale" and halo.shot == 0
    assert halo.time.seconds > 0 and halo.preset == "studio"
    passed = [r for r in rows if r.verdict == "pass"]
    assert passed and all(r.threshold == r.review_threshold for r in passed)
    assert {r.verdict for r in rows} <= {"pass", "review", "fail"}


async def test_an_uncheckable_pair_is_one_failed_log_row(service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job, stub = service
    asset_id, source_key = _source_asset(
        job, tmp_path, synthetic.scene(synthetic.SceneSpec(seed=1, frames=12))
    )
    missing = asset_key(asset_id, "renditions", "external", "0123456789abcdef.mp4")
    result = (await stub.CompareRendition(pb.CompareRenditionRequest(
        asset_id=asset_id, source_key=source_key, rendition_key=missing))).result  # fmt: skip
    assert result.verdict == "fail" and result.error.startswith("rendition_missing: ")
    (row,) = (await stub.ListQcChecks(pb.ListQcChecksRequest(asset_id=asset_id))).rows
    assert (row.metric, row.verdict, row.fix) == ("checkable", "fail", "generic")
    assert row.detail == result.error


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h, d: (h, [d + b"x"]), "more bytes arrived than the"),
        (lambda h, d: (h, [d[:-10]]), "the upload ended after"),
        (lambda h, d: (_replace(h, sha256="0" * 64), [d]), "do not match the header's sha256"),
        (lambda h, d: (_replace(h, sha256="XYZ"), [d]), "sha256 must be"),
        (lambda h, d: (_replace(h, size_bytes=MAX_BYTES + 1), [d]), f"the limit is {MAX_BYTES}"),
        (lambda h, d: (_replace(h, asset_id="abc"), [d]), "asset_id must be the full 32-character id"),
    ],
)
async def test_bad_uploads_are_refused_and_store_nothing(
    service, tmp_path: Path, mutate, message: str
) -> None:  # type: ignore[no-untyped-def]
    job, stub = service
    asset_id, _ = _source_asset(job, tmp_path, synthetic.scene(synthetic.SceneSpec(seed=2, frames=6)))
    data = b"not really a video, but bytes" * 100
    header, chunks = mutate(_header(asset_id, data), data)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UploadRendition(_chunks(header, *chunks))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in (
        caught.value.details() or ""
    )
    assert job.store.list_keys(asset_key(asset_id, "renditions") + "/") == []


async def test_an_upload_for_an_unknown_asset_or_without_header_is_refused(service) -> None:  # type: ignore[no-untyped-def]
    _, stub = service
    data = b"bytes"
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.UploadRendition(_chunks(_header(uuid.uuid4().hex, data), data))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "ingest the source first" in (unknown.value.details() or "")

    async def chunk_first() -> AsyncIterator[pb.UploadRenditionRequest]:
        yield pb.UploadRenditionRequest(chunk=data)

    with pytest.raises(grpc.aio.AioRpcError) as headless:
        await stub.UploadRendition(chunk_first())
    assert headless.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "the first message must be the header" in (headless.value.details() or "")


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"asset_id": "f00"}, "asset_id must be the full 32-character id"),
        ({"source_key": "assets/" + "1" * 32 + "/original.mp4"}, "source_key must be an object key under"),
        ({"rendition_key": "elsewhere/x.mp4"}, "rendition_key must be an object key under assets/"),
        ({"fix": "sharpen"}, "fix must be one of stabilize, denoise, upscale, generic"),
        ({"crop_fraction": 0.5}, "crop_fraction within [0, 0.45)"),
    ],
)
async def test_compare_refuses_bad_requests(service, request_fields: dict[str, object], message: str) -> None:  # type: ignore[no-untyped-def]
    _, stub = service
    asset_id = "a" * 32
    fields: dict[str, object] = {"asset_id": asset_id, "source_key": asset_key(asset_id, "original.mp4"),
                                 "rendition_key": asset_key(asset_id, "renditions", "x.mp4")}  # fmt: skip
    fields.update(request_fields)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CompareRendition(pb.CompareRenditionRequest(**fields))  # type: ignore[arg-type]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in (
        caught.value.details() or ""
    )


async def test_get_qc_and_the_log_of_an_asset_without_qc(service) -> None:  # type: ignore[no-untyped-def]
    _, stub = service
    asset_id = uuid.uuid4().hex
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetQc(pb.GetQcRequest(asset_id=asset_id))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and "has no QC yet" in (
        caught.value.details() or ""
    )
    assert list((await stub.ListQcChecks(pb.ListQcChecksRequest(asset_id=asset_id))).rows) == []
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.ListQcChecks(pb.ListQcChecksRequest(asset_id="nope"))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _replace(header: pb.UploadRenditionHeader, **fields: object) -> pb.UploadRenditionHeader:
    copy = pb.UploadRenditionHeader()
    copy.CopyFrom(header)
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy
