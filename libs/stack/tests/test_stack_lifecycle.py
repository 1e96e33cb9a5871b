"""The whole local stack: up -> status -> idempotent up -> kill -9 -> restart -> down, no leftovers."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from rushes_config import load_settings
from rushes_stack import SERVICES, ServiceSpec, StackError, down, load_state, service_env, status, up
from rushes_stack.components.service import grpc_serving
from rushes_stack.triton import repository_models

REPO_ROOT = Path(__file__).resolve().parents[3]  # not from conftest: a shared module name

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAKE = ServiceSpec("echo", "rushes_fake_health_service", "echo_address", "echo")
INFRA = ["nats", "s3", "postgres", "triton"]


def _group_pids(pids: list[int]) -> set[tuple[int, float]]:
    """Every process (pid, create time) in the process groups led by `pids`."""
    found = set()
    for proc in psutil.process_iter(["pid", "create_time"]):
        try:
            if os.getpgid(proc.pid) in pids:
                found.add((proc.pid, proc.info["create_time"]))
        except ProcessLookupError:
            continue
    return found


def _alive(pid: int, created: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and abs(proc.create_time() - created) < 1
    except psutil.NoSuchProcess:
        return False


def _wait_health(state_dir: Path, name: str, wanted: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        entry = status(state_dir)["components"][name]
        if entry["health"] == wanted or time.monotonic() > deadline:
            return entry
        time.sleep(0.1)


def test_stack_lifecycle(
    state_dir: Path, fake_service_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SERVICES, FAKE.name, FAKE)
    models = repository_models(REPO_ROOT / "models")

    state = up(state_dir, services=["echo"], with_triton=True, model_repo=REPO_ROOT / "models")
    names = [*INFRA, "echo"]
    assert sorted(state.started) == sorted(names)

    # status: one entry per process, all healthy, models ready
    report = status(state_dir)["components"]
    assert list(report) == names
    assert {n: e["health"] for n, e in report.items()} == dict.fromkeys(names, "ok")
    assert report["triton"]["models"] == dict.fromkeys(models, "ready")
    assert report["echo"]["address"] == state.services["echo"].address
    assert report["echo"]["metrics"] == f"http://127.0.0.1:{state.services['echo'].metrics_port}/metrics"
    assert report["nats"]["metrics"] is None
    assert report["triton"]["metrics"].endswith("/metrics")
    pids = {n: e["pid"] for n, e in report.items()}
    assert all(isinstance(p, int) for p in pids.values())

    # stack.json: private, with credentials; the service got the stack's environment
    record = json.loads((state_dir / "stack.json").read_text())
    assert (state_dir / "stack.json").stat().st_mode & 0o777 == 0o600
    assert record["credentials"]["postgres_dsn"] == state.postgres.dsn
    assert all(record["components"][n]["pid"] == pids[n] for n in names)
    echo_env = json.loads((state_dir / "services" / "echo" / "env.json").read_text())
    expected_env = service_env(state, "echo")
    assert {k: echo_env.get(k) for k in expected_env} == expected_env
    assert echo_env["RUSHES_SERVICE_NAME"] == "echo"
    assert json.loads(echo_env["RUSHES_PIPELINE_STAGES"]) == ["echo"]
    assert grpc_serving(state.services["echo"].address, "echo")

    # the client environment is a valid configuration for rushes_config
    for key, value in service_env(state).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.nats.url == state.nats.url
    assert state.triton is not None
    assert settings.triton.url == state.triton.grpc_url
    assert settings.state_dir == str(state_dir)

    # a second up reports the running stack
    again = up(state_dir, services=["echo"], with_triton=True, model_repo=REPO_ROOT / "models")
    assert again.started == []
    assert {n: c.process.pid for n, c in again.components().items() if c.process} == pids

    # kill -9 one component: status sees it down, up restarts it on the same port
    old_port = state.nats.port
    os.kill(pids["nats"], signal.SIGKILL)
    assert _wait_health(state_dir, "nats", "down")["health"] == "down"
    assert status(state_dir)["components"]["s3"]["health"] == "ok"
    restarted = up(state_dir, services=["echo"], with_triton=True, model_repo=REPO_ROOT / "models")
    assert restarted.started == ["nats"]
    assert restarted.nats.port == old_port
    report = status(state_dir)["components"]
    assert {n: e["health"] for n, e in report.items()} == dict.fromkeys(names, "ok")
    assert report["nats"]["pid"] != pids["nats"]
    assert {n: report[n]["pid"] for n in names if n != "nats"} == {n: pids[n] for n in names if n != "nats"}

    # down stops everything, services first; nothing of any group is left
    every_pid = _group_pids([e["pid"] for e in report.values()])
    assert len(every_pid) >= len(names)
    assert sorted(down(state_dir)) == sorted(names)
    assert [p for p in every_pid if _alive(*p)] == []
    report = status(state_dir)["components"]
    assert {n: (e["health"], e["pid"]) for n, e in report.items()} == dict.fromkeys(names, ("down", None))
    assert down(state_dir) == []
    recorded = load_state(state_dir)
    assert recorded is not None and recorded.nats.password == state.nats.password


def test_failed_service_leaves_nothing_running(
    state_dir: Path, fake_service_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = ServiceSpec("broken", "rushes_no_such_module", "broken_address", None)
    monkeypatch.setitem(SERVICES, broken.name, broken)
    with pytest.raises(
        StackError, match=r"(?s)broken failed to start.*No module named rushes_no_such_module"
    ):
        up(state_dir, services=["broken"], with_triton=False)
    report = status(state_dir)["components"]
    assert {n: e["health"] for n, e in report.items()} == dict.fromkeys(
        ["nats", "s3", "postgres", "broken"], "down"
    )


def test_missing_model_repository_is_named(state_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"triton: no model repository at .*nowhere"):
        up(state_dir, services=[], with_triton=True, model_repo=tmp_path / "nowhere")
    assert status(state_dir) == {"components": {}}


def test_down_then_up_keeps_ports_credentials_and_data(state_dir: Path) -> None:
    import psycopg

    first = up(state_dir, services=[], with_triton=False)
    with psycopg.connect(first.postgres.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('survives down')")
    assert sorted(down(state_dir)) == ["nats", "postgres", "s3"]

    second = up(state_dir, services=[], with_triton=False)
    assert sorted(second.started) == ["nats", "postgres", "s3"]
    assert second.postgres.dsn == first.postgres.dsn
    assert second.nats.url == first.nats.url and second.nats.password == first.nats.password
    assert second.s3.ports == first.s3.ports
    with psycopg.connect(second.postgres.dsn) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("survives down",)]
    assert {e["health"] for e in status(state_dir)["components"].values()} == {"ok"}
