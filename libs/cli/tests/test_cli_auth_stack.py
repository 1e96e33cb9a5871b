"""Access control of the real local stack, through the real CLI in subprocesses (one stack start).

`rushes up` generates the credentials; the CLI finds the admin token in the state folder; `--token`
and RUSHES_TOKEN override it; a wrong token ends in one line and exit 2; roles bound what a token
may do; NATS and S3 refuse anonymous clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error
from rushes_events import EventBus, EventBusUnavailable
from rushes_stack import load_state
from rushes_testing.media import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUSHES = [sys.executable, "-m", "rushes_cli.main"]


def rushes(
    state_dir: Path, *args: str, timeout: float = 120, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSHES_")}
    env.update(extra_env or {})
    return subprocess.run(
        [*RUSHES, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state_dir = tmp_path_factory.mktemp("auth-stack") / ".rushes"
    try:
        started = rushes(state_dir, "up", "--no-triton", timeout=240)
        assert started.returncode == 0, started.stderr
        yield state_dir
    finally:
        rushes(state_dir, "down", timeout=120)


@pytest.fixture(scope="module")
def asset_id(stack: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    clip = make_clip(
        tmp_path_factory.mktemp("clip") / "A001_C001.mp4", seconds=1, width=320, height=180, seed=3
    )
    ingested = rushes(stack, "ingest", "--json", str(clip), timeout=180)
    assert ingested.returncode == 0, ingested.stderr
    found = json.loads(ingested.stdout)[0]["asset_id"]
    deadline = time.monotonic() + 60
    while rushes(stack, "show", found).returncode != 0:  # the library projects the event shortly
        assert time.monotonic() < deadline, "the ingested asset never reached the library"
        time.sleep(0.5)
    return str(found)


def token(stack: Path, role: str) -> str:
    return (stack / "auth" / f"{role}.token").read_text().strip()


def test_credentials_are_private_files(stack: Path) -> None:
    auth = stack / "auth"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o700
    for name in ("viewer.token", "editor.token", "reviewer.token", "admin.token", "principals.json"):
        assert stat.S_IMODE((auth / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((stack / "stack.json").stat().st_mode) == 0o600
    principals = (auth / "principals.json").read_text()
    assert token(stack, "admin") not in principals and token(stack, "viewer") not in principals


def test_status_and_show_work_with_the_generated_token(stack: Path, asset_id: str) -> None:
    report = json.loads(rushes(stack, "status", "--json").stdout)
    assert all(c["health"] == "ok" for c in report["components"].values()), report
    shown = rushes(stack, "show", asset_id, "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["asset_id"] == asset_id and record["source"]["filename"] == "A001_C001.mp4"


def test_wrong_token_fails_in_one_line(stack: Path, asset_id: str) -> None:
    for override in (["--token", "not-a-real-token"], []):
        env = {} if override else {"RUSHES_TOKEN": "also-wrong"}
        shown = rushes(stack, *override, "show", asset_id, extra_env=env)
        assert shown.returncode == 2
        lines = shown.stderr.strip().splitlines()
        assert len(lines) == 1 and "unauthenticated: invalid bearer token" in lines[0], shown.stderr
        assert "not-a-real-token" not in shown.stderr and shown.stdout == ""


def test_roles_bound_what_a_token_may_do(stack: Path, asset_id: str, tmp_path: Path) -> None:
    viewer = {"RUSHES_TOKEN": token(stack, "viewer")}
    assert rushes(stack, "show", asset_id, extra_env=viewer).returncode == 0
    clip = make_clip(tmp_path / "A001_C002.mp4", seconds=1, width=320, height=180, seed=4)
    refused = rushes(stack, "ingest", str(clip), extra_env=viewer)
    assert refused.returncode != 0
    assert "permission_denied" in refused.stderr and "needs editor" in refused.stderr, refused.stderr
    # --token beats RUSHES_TOKEN.
    editor = rushes(
        stack, "--token", token(stack, "editor"), "show", asset_id, extra_env={"RUSHES_TOKEN": "x"}
    )
    assert editor.returncode == 0, editor.stderr


def test_services_log_no_token(stack: Path, asset_id: str) -> None:
    tokens = [token(stack, role) for role in ("viewer", "editor", "reviewer", "admin")]
    logs = "".join(p.read_text(errors="replace") for p in (stack / "logs").glob("*.log"))
    assert "refused" in logs  # the refusals above were logged ...
    assert not any(t in logs for t in tokens)  # ... without any token


def test_nats_and_s3_refuse_anonymous_clients(stack: Path) -> None:
    state = load_state(stack)
    assert state is not None
    with pytest.raises(EventBusUnavailable, match=r"(?i)authorization"):
        asyncio.run(EventBus.connect(state.nats.settings(user=None, password=None), name="anon", wait_s=2.0))
    anonymous = Minio(state.s3.endpoint, secure=False)
    with pytest.raises(S3Error):
        next(iter(anonymous.list_objects(state.bucket)))
    # A service key reaches its bucket's objects but cannot administer the store.
    creds = state.service_credentials["ingest"]
    ingest = Minio(state.s3.endpoint, creds.s3_access_key, creds.s3_secret_key, secure=False)
    assert ingest.bucket_exists(state.bucket)
    with pytest.raises(S3Error):
        ingest.make_bucket("not-allowed")
