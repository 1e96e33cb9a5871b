"""`rushes qc`: argument handling, and the real command (a subprocess) against the library and qc
services running in-process on real NATS, S3 and Postgres: `qc compare` of local files, the QC log,
the verdicts, and the refusals a user sees."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from rushes.asset.v1 import asset_pb2
from rushes.events.v1 import events_pb2
from rushes.qc.v1 import qc_service_pb2_grpc as qc_grpc
from rushes_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from rushes_cli.main import main
from rushes_cli.qc_cmd import classify, render_log
from rushes_config import GrpcSettings, MediaLimits, PostgresSettings, RushesSettings
from rushes_events import EventBus, new_envelope, stage_run
from rushes_grpc import RunningServer, start_server
from rushes_library.service import run_library
from rushes_qc import synthetic
from rushes_qc.job import QcJob
from rushes_qc.servicer import SERVICE_NAME, QcServicer
from rushes_storage import ObjectStore, asset_key
from rushes_testing.media_builders import write_video

WAIT_S = 30.0


# --- arguments (no servers) -------------------------------------------------------------------


def test_compare_needs_a_source_and_a_rendition(capsys: pytest.CaptureFixture[str]) -> None:
    code = _run_handler(["qc", "compare", "only-one"])
    assert code == EXIT_USAGE
    assert "usage: rushes qc compare SOURCE RENDITION" in capsys.readouterr().err


def test_an_argument_is_a_file_an_object_key_or_an_asset_id(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert classify(str(clip)).kind == "file"
    assert classify("assets/" + "a" * 32 + "/original.mp4").kind == "key"
    assert classify("0123abcd").kind == "asset"
    with pytest.raises(CliError, match="not a regular file") as folder:
        classify(str(tmp_path))
    assert folder.value.exit_code == EXIT_USAGE
    with pytest.raises(CliError, match="no such file, and not an asset id"):
        classify(str(tmp_path / "missing.mp4"))
    with pytest.raises(CliError, match=r"may not contain '\.\.'"):
        classify("assets/" + "a" * 32 + "/../x")


def test_the_log_is_rendered_one_line_per_check() -> None:
    text = render_log([{"time": "2026-01-01T10:00:00.000Z", "fix": "upscale", "shot": 2, "metric": "halo_overshoot",
                        "value": 9.1, "threshold": 8.0, "direction": "above", "verdict": "fail", "detail": ""}])  # fmt: skip
    assert "halo_overshoot" in text and ">8" in text and text.rstrip().endswith("fail")
    assert render_log([]) == "no QC checks recorded for this asset"


def _run_handler(argv: list[str]) -> int:
    """main() with an environment that points at no stack: the usage check comes first."""
    saved = os.environ.get("RUSHES_INGEST_ADDRESS")
    os.environ["RUSHES_INGEST_ADDRESS"] = "127.0.0.1:1"
    try:
        return main(["--state-dir", "/nonexistent-rushes-state", *argv])
    finally:
        if saved is None:
            os.environ.pop("RUSHES_INGEST_ADDRESS", None)
        else:
            os.environ["RUSHES_INGEST_ADDRESS"] = saved


# --- the command against running services -----------------------------------------------------


class Services:
    def __init__(self, env: dict[str, str], store: ObjectStore, bus: EventBus, media: Path) -> None:
        self.env = env
        self.store = store
        self.bus = bus
        self.media = media

    async def rushes(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rushes_cli.main", "--state-dir", str(self.media / "no-stack"), *args,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=180)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def ingested(self, path: Path) -> str:
        """What ingest leaves for a file: its original stored under its content-hash id, announced."""
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        asset_id = sha[:32]
        key = asset_key(asset_id, "original.mp4")
        self.store.put_file(key, path)
        now = time.time()
        event = events_pb2.AssetIngested(
            envelope=new_envelope(
                "rushes.v1.asset.ingested", asset_id=asset_id, producer="ingest", producer_version="test"
            ),
            source=asset_pb2.Source(filename=path.name, bytes=path.stat().st_size, sha256=sha),
            technical=asset_pb2.Technical(width=320, height=192, fps=25.0, frame_count=40, has_video=True),
            objects={"original": key},
            run=stage_run("ingest", now - 1, now),
        )
        await self.bus.publish(event, msg_id=f"ingested-{asset_id}")
        return asset_id


@pytest_asyncio.fixture(scope="module")
async def services(nats_server, s3_server, postgres_server, tmp_path_factory) -> AsyncIterator[Services]:  # type: ignore[no-untyped-def]
    media = tmp_path_factory.mktemp("cli-qc")
    settings = RushesSettings(
        nats=nats_server.settings(),
        postgres=PostgresSettings(dsn=postgres_server.fresh_database(prefix="cli_qc")),
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
    store = ObjectStore(s3_server.settings(bucket="cli-qc-tests"))
    store.ensure_bucket()
    bus = await EventBus.connect(nats_server.settings(), name="cli-qc-test")
    await bus.ensure_stream()
    job = QcJob(store, bus, None, MediaLimits(), work_dir=media)
    servicer = QcServicer(job)
    qc_server = await start_server(
        name="qc-cli-test", address="127.0.0.1:0", service_names=[SERVICE_NAME],
        register=lambda s: qc_grpc.add_QcServiceServicer_to_server(servicer, s),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update({"RUSHES_INGEST_ADDRESS": "127.0.0.1:1", "RUSHES_LIBRARY_ADDRESS": ready.result().address,
                "RUSHES_QC_ADDRESS": f"127.0.0.1:{qc_server.port}"})  # fmt: skip
    yield Services(env, store, bus, media)
    await qc_server.stop(1.0)
    await bus.close()
    stop.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(library, timeout=WAIT_S)


def _write(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    return write_video(
        path, frames, width=width, height=height, codec_options={"crf": "12", "preset": "veryfast"}
    )


async def _until_catalogued(services: Services, asset_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        code, out, err = await services.rushes("show", asset_id, "--json")
        if code == EXIT_OK:
            return dict(json.loads(out))
        assert time.monotonic() < deadline, err
        await asyncio.sleep(0.3)


@pytest.mark.integration
async def test_compare_two_local_files_then_read_the_log(services: Services) -> None:
    source_frames = synthetic.scene(synthetic.SceneSpec(seed=8))
    source = _write(services.media / "A001_C001.mp4", source_frames)
    halo = _write(services.media / "A001_C001_upscaled_elsewhere.mp4", synthetic.halo(source_frames))
    asset_id = await services.ingested(source)
    await _until_catalogued(services, asset_id)

    code, out, err = await services.rushes(
        "qc", "compare", str(source), str(halo), "--fix", "upscale", "--json"
    )
    assert code == EXIT_FAILED, err  # a failed QC is a non-zero exit, for scripts
    report = json.loads(out)
    assert report["verdict"] == "fail" and report["asset_id"] == asset_id
    (shot,) = report["shots"]
    assert {"index", "verdict", "metrics", "failures", "diff_maps"} <= set(shot)
    assert shot["verdict"] == "fail" and shot["metrics"]["halo_overshoot"] > 6 and shot["diff_maps"]
    assert "halo_overshoot" in {f["metric"] for f in shot["failures"]}
    sha = hashlib.sha256(halo.read_bytes()).hexdigest()
    assert report["object_key"] == f"assets/{asset_id}/renditions/external/{sha[:16]}.mp4"
    assert services.store.stat(report["object_key"]) is not None

    code, out, err = await services.rushes("qc", asset_id, "--log", "--json")
    assert code == EXIT_OK, err
    rows = json.loads(out)
    halo_row = next(r for r in rows if r["metric"] == "halo_overshoot")
    assert (
        halo_row["verdict"] == "fail" and halo_row["value"] > halo_row["threshold"] and halo_row["shot"] == 0
    )
    assert halo_row["time"].endswith("Z") and halo_row["rendition_key"] == report["object_key"]
    code, text, _ = await services.rushes("qc", asset_id, "--log")
    assert code == EXIT_OK and "halo_overshoot" in text and text.splitlines()[0].startswith("time")

    code, out, _ = await services.rushes("qc", asset_id, "--json")
    assert code == EXIT_OK and json.loads(out)["verdict"] == "fail"
    # Recorded against the source asset: the library projected the asset.qc event onto its record.
    deadline = time.monotonic() + WAIT_S
    while (record := await _until_catalogued(services, asset_id)).get("qc", {}).get("verdict") != "fail":
        assert time.monotonic() < deadline, record.get("qc")
        await asyncio.sleep(0.3)
    assert record["qc"]["renditions"][0]["object_key"] == report["object_key"]

    # The same pair by object keys passes through the same path; a clean one passes with exit 0.
    clean = _write(services.media / "clean.mp4", source_frames)
    code, out, err = await services.rushes(
        "qc", "compare", asset_id, str(clean), "--fix", "denoise", "--json"
    )
    assert code == EXIT_OK, err
    assert json.loads(out)["verdict"] == "pass"
    code, text, _ = await services.rushes(
        "qc", "compare", f"assets/{asset_id}/original.mp4", report["object_key"]
    )
    assert code == EXIT_FAILED and text.startswith("generic v0: FAIL (to review)")


@pytest.mark.integration
async def test_a_source_file_not_ingested_is_refused_with_the_fix(services: Services) -> None:
    frames = synthetic.scene(synthetic.SceneSpec(seed=9, frames=8))
    source = _write(services.media / "never_ingested.mp4", frames)
    rendition = _write(services.media / "never_ingested_fixed.mp4", frames)
    code, out, err = await services.rushes("qc", "compare", str(source), str(rendition))
    assert code == EXIT_FAILED and out == ""
    asset_id = hashlib.sha256(source.read_bytes()).hexdigest()[:32]
    assert err.strip() == (
        f"rushes: {source} is not in the catalog (asset {asset_id}): run `rushes ingest {source}` first"
    )
    code, _, err = await services.rushes("qc", "compare", str(source), "nonsense!")
    assert code == EXIT_USAGE and "nonsense!: no such file, and not an asset id" in err


@pytest.mark.integration
async def test_qc_of_an_unknown_asset_is_one_line(services: Services) -> None:
    code, _, err = await services.rushes("qc", "f" * 32, "--log")
    assert code == EXIT_FAILED and len(err.strip().splitlines()) == 1 and "not found" in err
