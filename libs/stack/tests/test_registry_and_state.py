"""Service registry, stack.json round trip and the errors of bad state (no servers needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rushes_stack import StackState, StackStateError, UnknownService, load_state, service_env, status, up
from rushes_stack.components.service import ServiceProcess
from rushes_stack.components.tritonserver import TritonServer
from rushes_stack.registry import SERVICES, pipeline_stages, resolve_services


def test_registry_knows_ingest_and_library() -> None:
    assert [s.name for s in resolve_services(None)] == list(SERVICES)
    assert SERVICES["ingest"].module == "rushes_ingest" and SERVICES["ingest"].stage == "ingest"
    assert SERVICES["library"].stage is None
    assert SERVICES["library"].address_env == "RUSHES_LIBRARY_ADDRESS"
    assert pipeline_stages(["library", "ingest"]) == ["ingest"]


def test_unknown_service_is_named() -> None:
    with pytest.raises(UnknownService, match="unknown service\\(s\\) nope; known: ingest, library"):
        resolve_services(["ingest", "nope"])


def test_up_with_unknown_service_starts_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nope"):
        up(tmp_path / "stack", services=["nope"], with_triton=False)
    assert not (tmp_path / "stack").exists()


def test_status_and_load_of_an_empty_folder(tmp_path: Path) -> None:
    assert status(tmp_path) == {"components": {}}
    assert load_state(tmp_path) is None


def _sample_state(root: Path) -> StackState:
    state = StackState.new(root)
    state.triton = TritonServer.create(root / "triton", root / "models", models=["whisper"])
    state.services["ingest"] = ServiceProcess.create("ingest", "rushes_ingest", root / "services" / "ingest")
    return state


def test_state_round_trips_and_is_private(tmp_path: Path) -> None:
    state = _sample_state(tmp_path)
    state.save()
    assert state.path.stat().st_mode & 0o777 == 0o600
    loaded = load_state(tmp_path)
    assert loaded is not None
    assert loaded.to_json() == state.to_json()
    data = json.loads(state.path.read_text())
    assert set(data["credentials"]) >= {
        "nats_user",
        "nats_password",
        "s3_access_key",
        "s3_secret_key",
        "postgres_dsn",
        "admin_token",
    }
    assert data["components"]["triton"]["metrics"].endswith("/metrics")
    assert data["components"]["nats"]["pid"] is None


def test_service_env_describes_the_stack(tmp_path: Path) -> None:
    state = _sample_state(tmp_path)
    with pytest.raises(ValueError, match="service 'ingest' has no credentials yet"):
        service_env(state, "ingest")  # fail closed: never hand a service the admin credentials
    state.ensure_access(state.services)
    env = service_env(state, "ingest")
    own = state.service_credentials["ingest"]
    assert env["RUSHES_NATS__URL"] == state.nats.url
    assert env["RUSHES_NATS__USER"] == own.nats_user != state.nats.user
    assert env["RUSHES_NATS__PASSWORD"] == own.nats_password
    assert env["RUSHES_S3__ACCESS_KEY"] == own.s3_access_key != state.s3.access_key
    assert env["RUSHES_TOKEN"] == own.grpc_token != state.admin_token
    assert env["RUSHES_GRPC__AUTH_TOKENS_FILE"] == str(state.principals_path)
    assert env["RUSHES_S3__ENDPOINT"] == state.s3.endpoint
    assert env["RUSHES_POSTGRES__DSN"] == state.postgres.dsn
    assert state.triton is not None
    assert env["RUSHES_TRITON__URL"] == state.triton.grpc_url
    assert env["RUSHES_INGEST_ADDRESS"] == state.services["ingest"].address
    assert json.loads(env["RUSHES_PIPELINE_STAGES"]) == ["ingest"]
    assert env["RUSHES_GRPC__ADDRESS"] == state.services["ingest"].address
    assert env["RUSHES_METRICS_PORT"] == str(state.services["ingest"].metrics_port)
    assert env["RUSHES_SERVICE_NAME"] == "ingest"
    assert env["RUSHES_STATE_DIR"] == str(tmp_path)
    client_env = service_env(state)
    assert "RUSHES_GRPC__ADDRESS" not in client_env
    assert client_env["RUSHES_TOKEN"] == state.admin_token
    assert client_env["RUSHES_NATS__PASSWORD"] == state.nats.password
    with pytest.raises(ValueError, match="service 'library' is not part of this stack"):
        service_env(state, "library")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "does not hold a JSON object"),
        ('{"version": 99}', "version 99, expected 1"),
        ('{"version": 1, "credentials": {}}', "is not a valid stack record"),
    ],
)
def test_bad_state_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "stack.json").write_text(content)
    with pytest.raises(StackStateError, match=message) as info:
        load_state(tmp_path)
    assert "stack.json" in str(info.value)
