"""Access control of the local stack against real servers: NATS users and permissions, S3 identities."""

from __future__ import annotations

import asyncio
import io
import stat
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from minio import Minio
from minio.error import S3Error
from rushes.events.v1 import events_pb2
from rushes_events import EventBus, EventBusUnavailable, new_envelope
from rushes_stack.access import SERVICE_EVENTS, nats_permissions, s3_actions
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.registry import SERVICES

pytestmark = pytest.mark.integration


def test_access_table_covers_every_service() -> None:
    missing = sorted(set(SERVICES) - set(SERVICE_EVENTS))
    assert not missing, f"add the events of {missing} to rushes_stack.access.SERVICE_EVENTS"


def test_permissions_allow_own_events_only() -> None:
    allowed = nats_permissions("tagging")["publish"]["allow"]
    assert "rushes.v1.asset.tagged" in allowed and "rushes.v1.dlq.tagging" in allowed
    assert "rushes.v1.asset.ingested" not in allowed and "rushes.v1.dlq.asr" not in allowed
    assert not any(subject in ("rushes.v1.>", ">") for subject in allowed)
    assert not any(subject in ("$JS.API.>", "$JS.ACK.>") or "DELETE" in subject for subject in allowed)
    assert "$JS.API.CONSUMER.MSG.NEXT.RUSHES.tagging" in allowed and "$JS.ACK.RUSHES.tagging.>" in allowed
    assert not any(
        subject.startswith("$JS.API.CONSUMER") for subject in nats_permissions("ingest")["publish"]["allow"]
    )
    assert s3_actions("rushes") == ["Read:rushes", "Write:rushes", "List:rushes", "Tagging:rushes"]


@pytest.fixture(scope="module")
def nats_with_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    folder = tmp_path_factory.mktemp("nats-access")
    server = NatsServer.create(folder)
    server.users = [
        {"user": name, "password": f"{name}-pw", "permissions": nats_permissions(name)}
        for name in ("ingest", "tagging", "asr")
    ]
    server.start(folder / "nats.log", die_with_parent=True)
    try:
        yield server
    finally:
        server.stop()


def ingested_event() -> events_pb2.AssetIngested:
    envelope = new_envelope(
        "rushes.v1.asset.ingested", asset_id="a" * 16, producer="test", producer_version="1"
    )
    return events_pb2.AssetIngested(envelope=envelope)


def test_nats_config_is_private(nats_with_services: NatsServer) -> None:
    assert stat.S_IMODE(nats_with_services.config_path.stat().st_mode) == 0o600


async def test_service_publishes_its_own_event_but_not_another_stages(nats_with_services: NatsServer) -> None:
    admin = await EventBus.connect(nats_with_services.settings(), name="admin")
    await admin.ensure_stream()
    ingest = await EventBus.connect(
        nats_with_services.settings(user="ingest", password="ingest-pw"), name="ingest"
    )
    tagging = await EventBus.connect(
        nats_with_services.settings(user="tagging", password="tagging-pw"), name="tagging"
    )
    try:
        before = (await admin.js.stream_info("RUSHES")).state.messages
        assert await ingest.publish(ingested_event(), msg_id="ok-1") is False
        # tagging forging ingest's event: the server refuses the publish, nothing is stored.
        with pytest.raises(EventBusUnavailable):
            await tagging.publish(ingested_event(), msg_id="forged-1", timeout_s=1.0)
        after = (await admin.js.stream_info("RUSHES")).state.messages
        assert after == before + 1
        # ... and tagging cannot subscribe to events with a core subscription either.
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        raw = await nats.connect(
            nats_with_services.url, user="tagging", password="tagging-pw", error_cb=on_error
        )
        try:
            await raw.subscribe("rushes.v1.>")
            await raw.flush()
            await asyncio.sleep(0.3)
        finally:
            await raw.close()
        assert any("permissions violation" in str(e).lower() for e in errors), errors
    finally:
        for bus in (ingest, tagging, admin):
            await bus.close()


async def test_service_cannot_delete_the_stream(nats_with_services: NatsServer) -> None:
    ingest = await EventBus.connect(
        nats_with_services.settings(user="ingest", password="ingest-pw"), name="ingest"
    )
    try:
        await ingest.ensure_stream()
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await ingest.js.delete_stream("RUSHES")  # the denied request gets no answer
        assert (await ingest.js.stream_info("RUSHES")).config.name == "RUSHES"
    finally:
        await ingest.close()


async def test_service_uses_its_own_durable_and_no_other(nats_with_services: NatsServer) -> None:
    """tagging runs its own consumer end to end, but cannot create, read or ack asr's queue, make a
    second consumer, or read stream messages directly."""
    from rushes_config import NatsSettings
    from rushes_events.consumer import consumer_config

    def service_bus(name: str) -> NatsSettings:
        return nats_with_services.settings(user=name, password=f"{name}-pw")

    admin = await EventBus.connect(nats_with_services.settings(), name="admin")
    tagging = await EventBus.connect(service_bus("tagging"), name="tagging")
    asr = await EventBus.connect(service_bus("asr"), name="asr")
    try:
        await admin.ensure_stream()
        wanted = {
            name: consumer_config(
                bus.settings, durable=name, filter_subjects=["rushes.v1.asset.ingested"], max_ack_pending=4
            )
            for name, bus in (("tagging", tagging), ("asr", asr))
        }
        await tagging.js.add_consumer("RUSHES", wanted["tagging"])
        await asr.js.add_consumer("RUSHES", wanted["asr"])
        await admin.publish(ingested_event(), msg_id="durables-1")
        own = await tagging.js.pull_subscribe_bind(durable="tagging", stream="RUSHES")
        for msg in await own.fetch(10, timeout=5):
            await msg.ack_sync()  # the acks reach the server: nothing is left pending
        mine = await tagging.js.consumer_info("RUSHES", "tagging")
        assert mine.num_ack_pending == 0 and mine.num_pending == 0 and mine.delivered.consumer_seq >= 1
        denied = (nats.errors.TimeoutError, nats.errors.NoRespondersError)
        with pytest.raises(denied):
            await tagging.js.consumer_info("RUSHES", "asr", timeout=1)
        with pytest.raises(denied):
            await tagging.js.add_consumer("RUSHES", wanted["asr"], timeout=1)
        spare = consumer_config(
            tagging.settings, durable="tagging-spare", filter_subjects=["rushes.v1.>"], max_ack_pending=4
        )
        with pytest.raises(denied):
            await tagging.js.add_consumer("RUSHES", spare, timeout=1)
        with pytest.raises(denied):
            await tagging.js.get_msg("RUSHES", 1)
        stolen = await tagging.js.pull_subscribe_bind(durable="asr", stream="RUSHES")
        with pytest.raises(denied):
            await stolen.fetch(1, timeout=1)
        # asr's message is still there for asr, undelivered.
        info = await asr.js.consumer_info("RUSHES", "asr")
        assert info.num_pending >= 1 and info.num_ack_pending == 0 and info.delivered.consumer_seq == 0
        assert [c.name for c in await admin.js.consumers_info("RUSHES")] == ["asr", "tagging"]
    finally:
        for bus in (tagging, asr, admin):
            await bus.close()


@pytest.mark.parametrize(("user", "password"), [(None, None), ("ingest", "wrong"), ("nobody", "ingest-pw")])
async def test_unauthenticated_connection_is_refused(
    nats_with_services: NatsServer, user: str | None, password: str | None
) -> None:
    settings = nats_with_services.settings(user=user, password=password)
    with pytest.raises(EventBusUnavailable, match=r"(?i)authorization"):
        await EventBus.connect(settings, name="intruder", wait_s=2.0)


@pytest.fixture(scope="module")
def s3_with_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    folder = tmp_path_factory.mktemp("s3-access")
    server = S3Server.create(folder)
    server.identities = [
        {
            "name": "svc-tagging",
            "credentials": [{"accessKey": "taggingkey", "secretKey": "tagging-secret"}],
            "actions": s3_actions("rushes"),
        }
    ]
    server.start(folder / "s3.log", die_with_parent=True)
    try:
        yield server
    finally:
        server.stop()


def test_s3_service_key_is_scoped_and_anonymous_refused(s3_with_service: S3Server) -> None:
    admin = Minio(
        s3_with_service.endpoint, s3_with_service.access_key, s3_with_service.secret_key, secure=False
    )
    admin.make_bucket("rushes")
    service = Minio(s3_with_service.endpoint, "taggingkey", "tagging-secret", secure=False)
    assert service.bucket_exists("rushes")
    service.put_object("rushes", "assets/a/tags.json", io.BytesIO(b"{}"), 2)
    assert service.get_object("rushes", "assets/a/tags.json").read() == b"{}"
    assert [o.object_name for o in service.list_objects("rushes", prefix="assets/", recursive=True)] == [
        "assets/a/tags.json"
    ]
    service.remove_object("rushes", "assets/a/tags.json")
    with pytest.raises(S3Error) as no_admin:
        service.make_bucket("other-bucket")
    assert no_admin.value.code == "AccessDenied"
    anonymous = Minio(s3_with_service.endpoint, secure=False)
    with pytest.raises(S3Error) as no_anon:
        anonymous.list_objects("rushes").__next__()
    assert no_anon.value.code in ("AccessDenied", "MissingFields", "InvalidAccessKeyId")
    wrong = Minio(s3_with_service.endpoint, "taggingkey", "not-the-secret", secure=False)
    with pytest.raises(S3Error) as bad_secret:
        wrong.bucket_exists("rushes")
    assert bad_secret.value.code in ("SignatureDoesNotMatch", "AccessDenied")


def test_s3_identity_file_is_private(s3_with_service: S3Server) -> None:
    assert stat.S_IMODE(s3_with_service.identity_path.stat().st_mode) == 0o600
    assert not s3_with_service.identities_changed()


def test_generated_credentials_are_private_and_survive_a_reload(tmp_path: Path) -> None:
    from rushes_stack import StackState, load_state
    from rushes_stack.components.service import ServiceProcess

    state = StackState.new(tmp_path)
    for name in ("ingest", "library"):
        state.services[name] = ServiceProcess.create(name, f"rushes_{name}", tmp_path / name)
    state.ensure_access(state.services)
    state.write_auth_files()
    state.save()
    assert stat.S_IMODE(state.auth_dir.stat().st_mode) == 0o700
    for role in ("viewer", "editor", "reviewer", "admin"):
        path = state.token_path(role)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == state.tokens_by_role()[role]
    principals = state.principals_path.read_text()
    assert stat.S_IMODE(state.principals_path.stat().st_mode) == 0o600
    tokens = [*state.tokens_by_role().values(), *(c.grpc_token for c in state.service_credentials.values())]
    assert all(token not in principals for token in tokens)
    assert '"service:ingest"' in principals
    # The library never touches objects: no S3 identity; ingest has one without Admin.
    assert [i["name"] for i in state.s3.identities] == ["service-ingest"]
    assert "Admin" not in state.s3.identities[0]["actions"]
    assert {u["user"] for u in state.nats.users} == {c.nats_user for c in state.service_credentials.values()}
    reloaded = load_state(tmp_path)
    assert reloaded is not None
    assert reloaded.service_credentials == state.service_credentials
    assert reloaded.role_tokens == state.role_tokens
