"""`rushes grade`: the real command (a subprocess) against the library and grading services running
in-process on real NATS, S3 and Postgres: match (summary, --json, --out), preview, reference, and the
refusals a user sees (unknown asset, a malformed ASSET@TIME, a time outside the asset, a non-image)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import pytest_asyncio
from pydantic import SecretStr
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes.grading.v1 import grading_service_pb2_grpc as pb_grpc
from rushes_cli.errors import EXIT_OK
from rushes_config import GrpcSettings, MediaLimits, PostgresSettings, RushesSettings, S3Settings
from rushes_events import Delivery, EventBus, new_envelope, stage_run
from rushes_grading import synthetic
from rushes_grading.consumer import GradingHandler
from rushes_grading.job import GradingJob
from rushes_grading.servicer import GradingServicer
from rushes_grpc import RunningServer, start_server
from rushes_library.service import run_library
from rushes_media import make_proxy, probe
from rushes_storage import ObjectStore, asset_key
from rushes_testing.media_builders import write_video

pytestmark = pytest.mark.integration
WAIT_S = 30.0
LIMITS = MediaLimits()
REFERENCE = synthetic.scene(320, 180, seed=11)


def _s3_env(settings: S3Settings) -> dict[str, str]:
    """RUSHES_S3__* variables that make the subprocess's ObjectStore reach the test bucket."""
    env = {}
    for name, value in settings:
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        if plain is not None:
            env[f"RUSHES_S3__{name.upper()}"] = str(plain).lower() if isinstance(plain, bool) else str(plain)
    return env


class Services:
    def __init__(self, env: dict[str, str], job: GradingJob, bus: EventBus, media: Path) -> None:
        self.env, self.job, self.bus, self.media = env, job, bus, media

    async def rushes(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rushes_cli.main", "--state-dir", str(self.media / "no-stack"), *args,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=180)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def ingested_and_tagged(self, frames: list[np.ndarray], shots: list[tuple[float, float]]) -> str:
        """An asset catalogued by the library (its ingested event on the bus) and known to grading."""
        asset_id = uuid.uuid4().hex
        height, width = frames[0].shape[:2]
        original = write_video(
            self.media / f"{asset_id}.mp4", frames, width=width, height=height, codec_options={"crf": "12"}
        )
        proxy = self.media / f"{asset_id}_proxy.mp4"
        make_proxy(original, proxy, limits=LIMITS)
        key = asset_key(asset_id, "proxy.mp4")
        self.job.store.put_file(key, proxy)
        now = time.time()
        ingested = events_pb2.AssetIngested(
            envelope=new_envelope("rushes.v1.asset.ingested", asset_id=asset_id, producer="ingest", producer_version="t"),
            source=asset_pb2.Source(filename=original.name, bytes=original.stat().st_size, sha256=asset_id * 2),
            technical=probe(original, LIMITS), objects={"proxy": key}, run=stage_run("ingest", now - 1, now),
        )  # fmt: skip
        await self.bus.publish(ingested, msg_id=f"ingested-{asset_id}")
        tagged = events_pb2.AssetTagged(
            envelope=new_envelope("rushes.v1.asset.tagged", asset_id=asset_id, producer="tagging", producer_version="t"),
            tags_version=1, shots=[asset_pb2.Shot(index=i, start_s=s, end_s=e) for i, (s, e) in enumerate(shots)],
        )  # fmt: skip
        handler = GradingHandler(self.job)
        for event in (ingested, tagged):
            await handler(Delivery(subject=event.envelope.type, event=event, envelope=event.envelope,
                                   num_delivered=1, stream_seq=1, _msg=None))  # type: ignore[arg-type]  # fmt: skip
        deadline = time.monotonic() + WAIT_S
        while (await self.rushes("show", asset_id, "--json"))[0] != EXIT_OK:
            assert time.monotonic() < deadline, "the library never catalogued the asset"
            await asyncio.sleep(0.3)
        return asset_id


@pytest_asyncio.fixture(scope="module")
async def services(nats_server, s3_server, postgres_server, tmp_path_factory) -> AsyncIterator[Services]:  # type: ignore[no-untyped-def]
    media = tmp_path_factory.mktemp("cli-grade")
    s3 = s3_server.settings(bucket="cli-grade-tests")
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=postgres_server.fresh_database(prefix="cli_grade")),
        grpc=GrpcSettings(address="127.0.0.1:0", grace_s=2.0),
        pipeline_stages=["ingest"],
    )
    stop = asyncio.Event()
    ready: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    library = asyncio.create_task(run_library(settings, stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({library, ready}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        await library
        pytest.fail("the library did not become ready")
    store = ObjectStore(s3)
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="cli-grade-test")
    await bus.ensure_stream()
    job = GradingJob(store, bus, LIMITS, work_dir=media)
    servicer = GradingServicer(job)
    server = await start_server(
        name="grading-cli-test", address="127.0.0.1:0", service_names=["rushes.grading.v1.GradingService"],
        register=lambda s: pb_grpc.add_GradingServiceServicer_to_server(servicer, s),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update({"RUSHES_INGEST_ADDRESS": "127.0.0.1:1", "RUSHES_LIBRARY_ADDRESS": ready.result().address,
                "RUSHES_GRADING_ADDRESS": f"127.0.0.1:{server.port}", **_s3_env(s3)})  # fmt: skip
    yield Services(env, job, bus, media)
    await server.stop(1.0)
    await bus.close()
    job.close()
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(library, timeout=WAIT_S)


@pytest_asyncio.fixture(scope="module")
async def graded_pair(services: Services) -> tuple[str, str]:
    """A reference asset and a two-shot target whose second shot carries a known cast."""
    cast = synthetic.with_cast(REFERENCE, gains=(1.25, 1.0, 0.75), exposure_stops=-0.6)
    reference = await services.ingested_and_tagged([REFERENCE] * 25, [(0.0, 1.0)])
    target = await services.ingested_and_tagged([REFERENCE] * 25 + [cast] * 25, [(0.0, 1.0), (1.0, 2.0)])
    return reference, target


async def test_match_prints_a_summary_json_and_writes_the_cubes(
    services: Services, graded_pair: tuple[str, str]
) -> None:
    reference, target = graded_pair
    code, out, err = await services.rushes("grade", "match", "--reference", f"{reference}@0.5", target)
    assert code == EXIT_OK, err
    assert f"{target}  look " in out and "shot   1" in out and "grade(s) for review" in out

    out_dir = services.media / "looks"
    code, out, err = await services.rushes(
        "grade", "match", "--reference", f"{reference[:10]}@0.5", target[:10], "--json", "--out", str(out_dir)
    )
    assert code == EXIT_OK, err
    (record,) = json.loads(out)
    assert record["envelope"]["asset_id"] == target
    grades: list[dict[str, Any]] = record["grades"]
    assert [g.get("shot_index", 0) for g in grades] == [0, 1]
    assert grades[1]["predicted_delta_e"] <= 2.0 < grades[1]["delta_e_before"]
    cubes = sorted(out_dir.glob("*.cube"))
    assert len(cubes) == 2 and b"LUT_3D_SIZE 33" in cubes[0].read_bytes()
    assert all(p.name.startswith(target[:12]) for p in out_dir.iterdir())


async def test_preview_writes_a_jpeg_and_reference_sets_the_project_look(
    services: Services, graded_pair: tuple[str, str]
) -> None:
    reference, target = graded_pair
    jpeg = services.media / "preview.jpg"
    code, out, err = await services.rushes(
        "grade", "preview", target, "--time", "1.5", "--size", "160", "-o", str(jpeg)
    )
    assert code == EXIT_OK, err
    picture = cv2.imdecode(np.frombuffer(jpeg.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and max(picture.shape[:2]) <= 160
    assert "t=1.5" in out

    image = services.media / "look.png"
    cv2.imwrite(str(image), cv2.cvtColor(REFERENCE, cv2.COLOR_RGB2BGR))
    code, out, err = await services.rushes("grade", "reference", "--project", "feature", str(image))
    assert code == EXIT_OK, err
    assert out.startswith("project feature: reference look image:") and "projects/" in out
    code, out, err = await services.rushes("grade", "reference", "--project", "feature", f"{reference}@0.2")
    assert code == EXIT_OK, err
    assert f"asset:{reference}@0.200" in out


async def test_bad_input_is_refused_clearly(services: Services, graded_pair: tuple[str, str]) -> None:
    reference, target = graded_pair
    code, _, err = await services.rushes("grade", "match", "--reference", f"{reference}@0.5", "feedbeef" * 4)
    assert code != EXIT_OK and "feedbeef" in err and "not found" in err.lower()
    code, _, err = await services.rushes("grade", "match", "--reference", f"{reference}@-1", target)
    assert code != EXIT_OK and "neither ASSET@SECONDS nor an image file" in err
    code, _, err = await services.rushes("grade", "match", "--reference", "nothex@1.0", target)
    assert code != EXIT_OK and "neither ASSET@SECONDS nor an image file" in err
    code, _, err = await services.rushes("grade", "match", "--reference", f"{reference}@99", target)
    assert code != EXIT_OK and "outside" in err and "99.000" in err
    not_an_image = services.media / "notes.txt"
    not_an_image.write_text("this is not a picture\n")
    code, _, err = await services.rushes("grade", "reference", "--project", "feature", str(not_an_image))
    assert code != EXIT_OK and "not an image" in err
    code, _, err = await services.rushes(
        "grade", "preview", "feedbeef" * 4, "-o", str(services.media / "x.jpg")
    )
    assert code != EXIT_OK and "not found" in err.lower()
    assert not (services.media / "x.jpg").exists()
