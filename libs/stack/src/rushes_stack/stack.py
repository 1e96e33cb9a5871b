"""`up`, `down`, `status` of the local stack; plain functions that return data and print nothing.

`up` is idempotent: it starts what is not running (first time: everything, with fresh ports and
credentials; later: whatever died, on the same ports with the same secrets and data) and returns
the whole stack. `down` stops by PID, services first, escalating to SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import nats.errors
from minio.error import S3Error
from rushes_config import ConfigError, load_settings
from rushes_events import EventBusUnavailable
from rushes_events.stream_setup import apply_stream_settings
from rushes_storage import StorageUnavailable

from rushes_stack import processes
from rushes_stack.access import needs_object_store
from rushes_stack.components.base import Component, ComponentFailed
from rushes_stack.components.service import ServiceProcess
from rushes_stack.components.tritonserver import TritonServer
from rushes_stack.env import infra_env, own_service_env, pipeline_env
from rushes_stack.registry import SERVICES, resolve_services
from rushes_stack.state import StackState, load_state

DEFAULT_STATE_DIR = Path(".rushes")
LOCK_FILE = "stack.lock"

HEALTH_OK = "ok"
HEALTH_DOWN = "down"
HEALTH_STARTING = "starting"
HEALTH_UNHEALTHY = "unhealthy"

T = TypeVar("T")
R = TypeVar("R")


class StackError(RuntimeError):
    """The stack could not be brought up; the message names each failed component with its log."""


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """One `up`/`down` at a time per state folder (a second waits for the first)."""
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _state_dir(state_dir: Path | str) -> Path:
    path = Path(state_dir).expanduser().resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _in_parallel(func: Callable[[T], R], items: Sequence[T]) -> list[R | BaseException]:
    """Run `func` on every item at once (the servers start independently); keep errors as values."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        futures = [pool.submit(func, item) for item in items]
    results: list[R | BaseException] = []
    for future in futures:
        error = future.exception()
        results.append(error if error is not None else future.result())
    return results


def service_env(state: StackState, service: str | None = None) -> dict[str, str]:
    """RUSHES_* variables that let a process reach this stack.

    Without `service`: what the CLI (or any client) needs. With it: also that service's own
    listen address, metrics port and name.
    """
    env = infra_env(
        nats=state.nats,
        s3=state.s3,
        postgres_dsn=state.postgres.dsn,
        triton=state.triton,
        bucket=state.bucket,
    )
    stages = [spec.stage for name, spec in SERVICES.items() if name in state.services and spec.stage]
    env.update(pipeline_env([stage for stage in stages if stage is not None]))
    env["RUSHES_STATE_DIR"] = str(state.state_dir)
    # Clients (the CLI) act as admin on the stack their owner started; services replace it below.
    env["RUSHES_TOKEN"] = state.admin_token
    for name, process in state.services.items():
        address_env = SERVICES[name].address_env if name in SERVICES else f"RUSHES_{name.upper()}_ADDRESS"
        env[address_env] = process.address
    if service is not None:
        if service not in state.services:
            raise ValueError(f"service {service!r} is not part of this stack ({', '.join(state.services)})")
        own = state.services[service]
        env.update(own_service_env(service, own.address, own.metrics_port))
        if service in SERVICES:
            env.update(dict(SERVICES[service].local_env))
        env.update(_own_credentials_env(state, service))
    return env


def _own_credentials_env(state: StackState, service: str) -> dict[str, str]:
    """A service authenticates as itself everywhere: its NATS user, its S3 key (none for a service
    that never touches objects), its gRPC token; its server checks tokens against principals.json."""
    creds = state.service_credentials.get(service)
    if creds is None:
        raise ValueError(f"service {service!r} has no credentials yet (StackState.ensure_access)")
    object_store = needs_object_store(service)
    return {
        "RUSHES_NATS__USER": creds.nats_user,
        "RUSHES_NATS__PASSWORD": creds.nats_password,
        "RUSHES_S3__ACCESS_KEY": creds.s3_access_key if object_store else "",
        "RUSHES_S3__SECRET_KEY": creds.s3_secret_key if object_store else "",
        "RUSHES_TOKEN": creds.grpc_token,
        "RUSHES_GRPC__AUTH_TOKENS_FILE": str(state.principals_path),
    }


def _apply_access(state: StackState) -> None:
    """Credentials for every service of the stack, written where the servers read them; a running
    NATS reloads its users, a running S3 server with other identities is restarted by the caller."""
    state.ensure_access(state.services)
    state.write_auth_files()
    if state.nats.process is not None and state.nats.process.is_alive():
        state.nats.reload()
    if state.s3.process is not None and state.s3.process.is_alive() and state.s3.identities_changed():
        # SeaweedFS reads -s3.config at start: stop it, _start_missing starts it with the new file.
        processes.stop(state.s3.process, grace_s=state.s3.stop_grace_s, sig=state.s3.stop_signal)
        state.s3.process = None


def _ensure_bucket(state: StackState) -> None:
    """Create the bucket with the admin key (service keys have no Admin action to create it) and
    set its policy again: every `up` leaves it as rushes_stack.access describes it, even if an
    operator changed it while the server ran. (_apply_access has described both to state.s3.)"""
    try:
        state.s3.apply_bucket_policy()
    except (StorageUnavailable, S3Error, ValueError) as exc:
        raise StackError(f"s3: cannot create bucket {state.bucket!r} or set its policy: {exc}") from exc


# The stream fields an operator's `up` applies (the services read the same RUSHES_NATS__* values).
_STREAM_FIELDS = ("stream", "stream_replicas", "duplicate_window_s")


def _ensure_stream(state: StackState) -> None:
    """Create the stream or bring it up to date with the admin user: service users may only create
    a missing stream, never change one (rushes_stack.access), so `up` is where new settings land."""
    try:
        wanted = load_settings().nats
    except ConfigError as exc:
        raise StackError(f"nats: {exc}") from None
    settings = state.nats.settings(**{name: getattr(wanted, name) for name in _STREAM_FIELDS})
    with ThreadPoolExecutor(max_workers=1) as pool:  # `up` may itself run inside an event loop
        try:
            pool.submit(asyncio.run, apply_stream_settings(settings, wait_s=15.0)).result()
        except (EventBusUnavailable, RuntimeError, TimeoutError, nats.errors.Error) as exc:
            raise StackError(f"nats: cannot create or update stream {wanted.stream!r}: {exc}") from exc


def _default_model_repo() -> Path:
    return Path.cwd() / "models"


def _start_missing(state: StackState, components: Sequence[Component]) -> list[str]:
    """Start each component that is not running; on any failure stop those started here and raise."""
    to_start = [c for c in components if c.process is None or not c.process.is_alive()]
    for component in to_start:
        if component.process is not None:
            # Dead leader: clear what may be left of its group (e.g. postgres backends) first.
            processes.stop(component.process, grace_s=1.0)
            component.process = None

    def start(component: Component) -> None:
        component.start(state.log_path(component.name))

    results = _in_parallel(start, to_start)
    started = [c for c, r in zip(to_start, results, strict=True) if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        for component in started:
            component.stop()
        state.save()
        raise StackError("\n\n".join(str(f) for f in failures))
    state.save()
    return [c.name for c in started]


def up(
    state_dir: Path | str = DEFAULT_STATE_DIR,
    *,
    services: Sequence[str] | None = None,
    with_triton: bool = True,
    model_repo: Path | None = None,
) -> StackState:
    """Bring the stack up (or complete it) and return it; `state.started` says what was started.

    `services=None` means every registered service. Components recorded by an earlier `up` are
    kept (and restarted if they died) even when not asked for again.
    Raises UnknownService (a ValueError) for a service name not in the registry, StackError when
    a component fails to start (nothing this call started is left running).
    """
    specs = resolve_services(services)
    if not with_triton:
        # A stage whose models live on Triton cannot run without it; leave it out of the pipeline.
        specs = [spec for spec in specs if not spec.needs_triton]
    root = _state_dir(state_dir)
    with _locked(root):
        state = load_state(root) or StackState.new(root)
        if with_triton and state.triton is None:
            repo = (model_repo or _default_model_repo()).resolve()
            if not repo.is_dir():
                raise StackError(
                    f"triton: no model repository at {repo}; pass model_repo or start without Triton"
                )
            state.triton = TritonServer.create(root / "triton", repo)
        for spec in specs:
            if spec.name not in state.services:
                state.services[spec.name] = ServiceProcess.create(
                    spec.name, spec.module, root / "services" / spec.name
                )
        _apply_access(state)
        state.save()  # ports and secrets are on record before anything listens on them
        started = _start_missing(state, state.infrastructure)
        if "s3" not in started:  # a start has just done it (S3Server.after_ready)
            _ensure_bucket(state)
        _ensure_stream(state)
        if state.triton is not None and state.triton.models is None:
            state.triton.models = state.triton.served_models()
        for name, service in state.services.items():
            service.env = service_env(state, name)
        try:
            started += _start_missing(state, list(state.services.values()))
        except StackError:
            for component in state.infrastructure:
                if component.name in started:
                    component.stop()
            state.save()
            raise
        state.started = started
        state.save()
        return state


def down(state_dir: Path | str = DEFAULT_STATE_DIR) -> list[str]:
    """Stop every component of the stack by PID (services, then infrastructure).

    Returns the names of the components that were running. Ports, credentials and data stay on
    record for the next `up`.
    """
    root = Path(state_dir).expanduser().resolve()
    if not (root / "stack.json").exists():
        return []
    with _locked(root):
        state = load_state(root)
        if state is None:
            return []
        stopped: list[str] = []
        for group in (list(state.services.values()), state.infrastructure):
            results = _in_parallel(_stop_recorded, group)
            stopped += [c.name for c, ran in zip(group, results, strict=True) if ran is True]
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                state.save()
                raise StackError("; ".join(str(e) for e in errors))
        state.save()
        return stopped


def _stop_recorded(component: Component) -> bool:
    if component.process is None:
        return False
    ran = processes.stop(component.process, grace_s=component.stop_grace_s, sig=component.stop_signal)
    component.process = None
    return ran


def _health(component: Component) -> dict[str, Any]:
    handle = component.process
    entry: dict[str, Any] = {
        "pid": handle.pid if handle is not None else None,
        "address": component.address,
        "metrics": component.metrics_url,
    }
    if handle is None or not handle.is_alive():
        entry["health"] = HEALTH_DOWN
    elif component.healthy():
        entry["health"] = HEALTH_OK
    elif time.time() - handle.create_time < component.start_timeout_s:
        entry["health"] = HEALTH_STARTING
    else:
        entry["health"] = HEALTH_UNHEALTHY
    if isinstance(component, TritonServer):
        alive = entry["health"] != HEALTH_DOWN
        entry["models"] = (
            component.model_status() if alive else {name: "unavailable" for name in component.models or []}
        )
    return entry


def status(state_dir: Path | str = DEFAULT_STATE_DIR) -> dict[str, Any]:
    """{"components": {name: {"pid", "address", "health", "metrics"[, "models"]}}}.

    health is "ok", "down" (not running), "starting" (running, not answering yet, within its start
    timeout) or "unhealthy" (running, not answering). An empty mapping when no stack is recorded.
    """
    state = load_state(Path(state_dir).expanduser().resolve())
    if state is None:
        return {"components": {}}
    components = state.components()
    results = _in_parallel(_health, list(components.values()))
    report: dict[str, Any] = {}
    for name, result in zip(components, results, strict=True):
        if isinstance(result, BaseException):
            component = components[name]
            result = {
                "pid": component.process.pid if component.process else None,
                "address": component.address,
                "health": HEALTH_UNHEALTHY,
                "metrics": component.metrics_url,
                "error": str(result),
            }
        report[name] = result
    return {"components": report}


__all__ = [
    "DEFAULT_STATE_DIR",
    "ComponentFailed",
    "StackError",
    "down",
    "service_env",
    "status",
    "up",
]
