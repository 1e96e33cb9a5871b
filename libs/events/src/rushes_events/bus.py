"""EventBus: one NATS connection, the stream bootstrap and publishing with Nats-Msg-Id."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from typing import Any

import nats
import nats.errors
import nats.js.errors
from google.protobuf.message import Message
from nats.aio.client import Client as NATS
from nats.aio.client import Server
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from rushes_config import NatsSettings

from rushes_events.errors import EventBusUnavailable
from rushes_events.registry import event_class_for
from rushes_events.subjects import STREAM_SUBJECTS, is_rushes_subject

_log = logging.getLogger(__name__)

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_EVENT_TYPE = "Rushes-Event-Type"
HEADER_EVENT_ID = "Rushes-Event-Id"
HEADER_TRACE_ID = "Rushes-Trace-Id"
HEADER_ASSET_ID = "Rushes-Asset-Id"

# Reconnect delays grow from RECONNECT_MIN_S to RECONNECT_MAX_S so a fleet of services does not
# hammer a restarting NATS server, yet reconnects within a few seconds once it is back.
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 5.0
PUBLISH_TIMEOUT_S = 5.0


def reconnect_delay_s(attempt: int) -> float:
    """Capped exponential backoff with jitter for the `attempt`-th consecutive failed reconnect."""
    base = min(RECONNECT_MAX_S, RECONNECT_MIN_S * (2 ** min(attempt, 16)))
    return base * random.uniform(0.8, 1.0)


def _pick_server(servers: list[Server], _info: dict[str, Any]) -> tuple[Server | None, float]:
    """nats-py reconnect handler: the server with the fewest failed attempts, after a backoff delay."""
    server = min(servers, key=lambda s: s.reconnects)
    return server, reconnect_delay_s(server.reconnects)


class EventBus:
    """One NATS connection and its JetStream context, shared by a process's publishers and consumers."""

    def __init__(self, nc: NATS, settings: NatsSettings, *, name: str, version: str) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.settings = settings
        self.name = name
        self.version = version

    @classmethod
    async def connect(
        cls,
        settings: NatsSettings,
        *,
        name: str,
        version: str = "unknown",
        wait_s: float | None = None,
    ) -> EventBus:
        """Connect (with the settings' user/password when set) and reconnect forever afterwards.

        The first connection is retried for `wait_s` (default: the settings' connect timeout), then
        EventBusUnavailable names the servers and the last error, so a service that starts before
        NATS fails with a readable line instead of hanging.
        """
        nc = NATS()
        last_error: list[BaseException] = []

        async def on_error(exc: Exception) -> None:
            # An authorization refusal is followed by the server dropping the socket; keep the
            # refusal, which is the reason a person can act on, over the reset that follows it.
            if not (last_error and _is_auth_error(last_error[0])):
                last_error[:] = [exc]
            # Each failed reconnect attempt reports here; the disconnect itself was logged already.
            level = logging.DEBUG if nc.is_reconnecting else logging.WARNING
            _log.log(level, "nats connection error (%s): %s", name, exc or type(exc).__name__)

        async def on_disconnected() -> None:
            if nc.is_closed or nc.is_draining:
                return  # our own close(), not an outage
            _log.warning("nats disconnected (%s); reconnecting", name)

        async def on_reconnected() -> None:
            _log.info(
                "nats reconnected (%s) to %s", name, nc.connected_url.netloc if nc.connected_url else "?"
            )

        async def on_closed() -> None:
            _log.info("nats connection closed (%s)", name)

        options: dict[str, Any] = {
            "servers": settings.servers,
            "name": name,
            "error_cb": on_error,
            "disconnected_cb": on_disconnected,
            "reconnected_cb": on_reconnected,
            "closed_cb": on_closed,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": RECONNECT_MIN_S * 2,
            "reconnect_to_server_handler": _pick_server,
            "connect_timeout": settings.connect_timeout_s,
        }
        tls = tls_context(settings)
        if tls is not None:
            options["tls"] = tls
        if settings.user:
            options["user"] = settings.user
            options["password"] = settings.password.get_secret_value() if settings.password else ""
        budget = settings.connect_timeout_s if wait_s is None else wait_s
        try:
            await asyncio.wait_for(nc.connect(**options), timeout=budget)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            await nc.close()
            cause = last_error[0] if last_error else exc
            raise EventBusUnavailable(
                f"cannot connect to NATS at {settings.url} within {budget:g}s: "
                f"{cause or type(cause).__name__}"
            ) from None
        _log.info("connected to nats %s as %s", nc.connected_url.netloc if nc.connected_url else "?", name)
        return cls(nc, settings, name=name, version=version)

    @property
    def is_connected(self) -> bool:
        return self.nc.is_connected

    async def reachable(self) -> bool:
        """A dependency check for gRPC health (rushes_grpc.DependencyWatch)."""
        return bool(self.nc.is_connected)

    async def ensure_stream(self, *, update: bool = True) -> None:
        """Create the stream, or bring the fields Rushes owns up to date; never deletes anything.

        Safe to run from every replica of every service at start: an up-to-date stream is left
        untouched, and only differing fields are updated, keeping whatever else an operator set.
        `update=False` is what services do: create the stream when it is missing, otherwise only
        report the fields that differ. Changing a live stream (its replicas, its duplicate window)
        is an operator's act (`rushes up`, the chart's stream-setup job,
        `python -m rushes_events.stream_setup`): a service's NATS user may not.
        """
        stream = self.settings.stream
        wanted_window = self.settings.duplicate_window_s
        try:
            info = await self.js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            config = StreamConfig(
                name=stream,
                subjects=[STREAM_SUBJECTS],
                storage=StorageType.FILE,
                num_replicas=self.settings.stream_replicas,
                duplicate_window=wanted_window,
            )
            try:
                await self.js.add_stream(config)
            except nats.js.errors.BadRequestError as exc:
                if "already in use" not in str(exc).lower():
                    raise RuntimeError(f"cannot create stream {stream!r}: {exc.description}") from exc
                # Another replica created it between our lookup and our create: check it instead.
                await self.ensure_stream(update=update)
                return
            _log.info("created stream %s (%s, R%d)", stream, STREAM_SUBJECTS, self.settings.stream_replicas)
            return

        current = info.config
        changes: dict[str, Any] = {}
        if STREAM_SUBJECTS not in (current.subjects or []):
            changes["subjects"] = [*(current.subjects or []), STREAM_SUBJECTS]
        if current.num_replicas != self.settings.stream_replicas:
            changes["num_replicas"] = self.settings.stream_replicas
        if abs((current.duplicate_window or 0) - wanted_window) > 1e-6:
            changes["duplicate_window"] = wanted_window
        if current.storage != StorageType.FILE:
            # Storage cannot change in place; moving it means copying the stream, an operator's call.
            _log.error(
                "stream %s uses %s storage, not file: events may be lost on restart", stream, current.storage
            )
        if not changes:
            return
        if not update:
            _log.warning(
                "stream %s differs from this service's settings (%s); left as it is: an operator "
                "applies them (rushes up, or python -m rushes_events.stream_setup)",
                stream,
                changes,
            )
            return
        try:
            await self.js.update_stream(current.evolve(**changes))
        except nats.js.errors.BadRequestError as exc:
            raise RuntimeError(f"cannot update stream {stream!r} with {changes}: {exc.description}") from exc
        _log.info("updated stream %s: %s", stream, changes)

    async def publish(
        self,
        event: Message,
        *,
        msg_id: str,
        subject: str | None = None,
        timeout_s: float = PUBLISH_TIMEOUT_S,
    ) -> bool:
        """Publish `event` and wait for the stream's ack; True when the server saw `msg_id` before.

        The subject defaults to event.envelope.type. Raises ValueError for a publish that can never
        work (no msg id, a subject outside the stream, a message class not registered for the
        subject) and EventBusUnavailable when NATS does not confirm in time.
        """
        envelope = getattr(event, "envelope", None)
        target = subject or (envelope.type if envelope is not None else "")
        if not msg_id or any(c in msg_id for c in "\r\n"):
            raise ValueError(f"msg_id {msg_id!r} must be a non-empty single-line string")
        if not is_rushes_subject(target) or any(c in target for c in "*> \t"):
            raise ValueError(
                f"cannot publish {type(event).__name__} on {target!r}: subject must be a concrete "
                f"subject under {STREAM_SUBJECTS!r} (set envelope.type or pass subject=)"
            )
        registered = event_class_for(target)
        if registered is None or registered.DESCRIPTOR.full_name != event.DESCRIPTOR.full_name:
            expected = registered.__name__ if registered else "nothing (unregistered subject)"
            raise ValueError(
                f"cannot publish {type(event).__name__} on {target!r}: that subject carries {expected}"
            )
        headers = {HEADER_MSG_ID: msg_id, HEADER_EVENT_TYPE: target}
        if envelope is not None:
            for header, value in (
                (HEADER_EVENT_ID, envelope.id),
                (HEADER_TRACE_ID, envelope.trace_id),
                (HEADER_ASSET_ID, envelope.asset_id),
            ):
                if value:
                    headers[header] = value
        try:
            ack = await self.js.publish(
                target,
                event.SerializeToString(),
                timeout=timeout_s,
                stream=self.settings.stream,
                headers=headers,
            )
        except nats.js.errors.NoStreamResponseError as exc:
            raise EventBusUnavailable(
                f"no stream accepted {target!r}: is stream {self.settings.stream!r} created (ensure_stream)?"
            ) from exc
        except (
            nats.errors.TimeoutError,
            nats.errors.ConnectionClosedError,
            nats.errors.NoRespondersError,
        ) as exc:
            raise EventBusUnavailable(
                f"publish to {target!r} not confirmed by NATS: {type(exc).__name__}"
            ) from exc
        if ack.duplicate:
            _log.debug("duplicate publish of %s (msg id %s) ignored by the stream", target, msg_id)
        return bool(ack.duplicate)

    async def close(self) -> None:
        """Drain (finish in-flight work and flush) and close; a closed bus is left alone."""
        if self.nc.is_closed:
            return
        try:
            await self.nc.drain()
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            _log.warning("nats drain failed (%s), closing: %s", self.name, exc)
            try:
                await self.nc.close()
            except OSError as close_exc:  # the server is gone: nothing left to flush
                _log.warning("nats close after a failed drain (%s): %s", self.name, close_exc)


def tls_context(settings: NatsSettings) -> ssl.SSLContext | None:
    """TLS to NATS when settings.tls_ca_file is set (with a client certificate when one is given).

    Raises EventBusUnavailable naming the file that cannot be used, before any connection attempt.
    """
    if not settings.tls_ca_file:
        if settings.tls_cert_file or settings.tls_key_file:
            raise EventBusUnavailable("RUSHES_NATS__TLS_CERT_FILE/KEY_FILE need RUSHES_NATS__TLS_CA_FILE")
        return None
    try:
        context = ssl.create_default_context(cafile=settings.tls_ca_file)
        if settings.tls_cert_file:
            context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise EventBusUnavailable(f"NATS TLS files unusable: {exc}") from None
    return context


def _is_auth_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "authorization" in text or "authentication" in text or "permissions violation" in text
