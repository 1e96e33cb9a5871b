"""Access control of the local stack against real servers: NATS users and permissions, S3 identities
and the bucket policy that keeps each service key off the other services' objects."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import nats
import nats.errors
import pytest
from minio import Minio
from minio.commonconfig import CopySource, Tags
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from rushes.events.v1 import events_pb2
from rushes_events import EventBus, EventBusUnavailable, new_envelope
from rushes_stack.access import (
    S3_DENIED_ACTIONS,
    S3_READ_ACTIONS,
    SERVICE_EVENTS,
    STAGE_WRITES,
    WITHOUT_OBJECT_STORE,
    key_owners,
    key_pattern_matches,
    nats_permissions,
    s3_actions,
    s3_bucket_policy,
    s3_principal,
    s3_user_policy,
)
from rushes_stack.components.nats import NatsServer
from rushes_stack.components.s3 import S3Server
from rushes_stack.registry import SERVICES
from rushes_stack.state import StackState

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
    assert "$JS.API.STREAM.INFO.RUSHES" in allowed and not any("STREAM.UPDATE" in s for s in allowed)
    assert "$JS.API.CONSUMER.MSG.NEXT.RUSHES.tagging" in allowed and "$JS.ACK.RUSHES.tagging.>" in allowed
    assert not any(
        subject.startswith("$JS.API.CONSUMER") for subject in nats_permissions("ingest")["publish"]["allow"]
    )
    assert s3_actions("rushes") == ["Read:rushes", "Write:rushes", "List:rushes"]


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
        await ingest.ensure_stream(update=False)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await ingest.js.delete_stream("RUSHES")  # the denied request gets no answer
        assert (await ingest.js.stream_info("RUSHES")).config.name == "RUSHES"
    finally:
        await ingest.close()


async def test_only_the_operator_changes_the_streams_settings(
    nats_with_services: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A service whose settings differ from the stream's leaves it alone (and says so); it may not
    update it even when it tries; the operator's `stream_setup` applies the new settings."""
    from rushes_events.stream_setup import apply_stream_settings

    admin = await EventBus.connect(nats_with_services.settings(), name="admin")
    wider = nats_with_services.settings(user="ingest", password="ingest-pw", duplicate_window_s=1800.0)
    ingest = await EventBus.connect(wider, name="ingest")
    try:
        await admin.ensure_stream()
        before = (await admin.js.stream_info("RUSHES")).config.duplicate_window
        await ingest.ensure_stream(update=False)
        assert (await admin.js.stream_info("RUSHES")).config.duplicate_window == before != 1800.0
        assert any("differs from this service's settings" in r.getMessage() for r in caplog.records)
        current = (await ingest.js.stream_info("RUSHES")).config
        with pytest.raises((TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await asyncio.wait_for(ingest.js.update_stream(current.evolve(duplicate_window=1800.0)), 2)
        await apply_stream_settings(nats_with_services.settings(duplicate_window_s=1800.0), wait_s=5)
        assert (await admin.js.stream_info("RUSHES")).config.duplicate_window == 1800.0
        await apply_stream_settings(nats_with_services.settings(), wait_s=5)  # back, for the other tests
    finally:
        await ingest.close()
        await admin.close()


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


# --- S3: who may write which objects (STAGE_WRITES and the bucket policy) -------------------------

ASSET = "0123456789abcdef0123456789abcdef"  # the shape of ingest's ids: 32 hex characters
SHA = "fe" * 32


def real_keys() -> dict[str, list[str]]:
    """Every shape of key each service writes (read from its put_bytes/put_file/delete calls), built
    with the same helpers the services use."""
    from rushes_storage import asset_key, project_key

    def project(*parts: str) -> str:
        return project_key("Film: One", *parts)

    return {
        "ingest": [
            asset_key(ASSET, name)
            for name in (
                "original",
                "original.mov",
                "original.mxf",
                "proxy.mp4",
                "poster.jpg",
                "audio_16k_mono.wav",
                "audio_16k_channels.wav",
                "ingest.json",
            )
        ],
        "tagging": [
            asset_key(ASSET, "tagging", "input.pb"),
            asset_key(ASSET, "tagging", "v2.pb"),
            asset_key(ASSET, "keyframes", "v2", "shot_0003.jpg"),
        ],
        "asr": [
            asset_key(ASSET, "asr", "v1.pb"),
            *(asset_key(ASSET, "subtitles", f"v1.{fmt}") for fmt in ("srt", "vtt", "qc.json")),
            project("asr", "speech.json"),
        ],
        "picks": [
            *(asset_key(ASSET, "picks", "inputs", f"{kind}.pb") for kind in ("ingested", "tagging-failed")),
            asset_key(ASSET, "picks", "result.pb"),
            project() + f"picks/{ASSET}.pb",
            project() + "cuts/0a1b2c3d/cut.edl",
        ],
        "enhance": [
            *(asset_key(ASSET, "renditions", fix, "v3.mp4") for fix in ("stabilize", "denoise", "upscale")),
            asset_key(ASSET, "enhance", "tags-v1.claim.json"),
            asset_key(ASSET, "enhance", f"request-{ASSET}.claim.json"),
            asset_key(ASSET, "enhance", "tags-v1.pb"),
        ],
        "grading": [
            asset_key(ASSET, "grading", f"{name}.pb")
            for name in ("ingested", "tagged", "0a1b2c3d4e5f6a7b/graded")
        ]
        + [
            asset_key(ASSET, "grading", "0a1b2c3d4e5f6a7b", name)
            for name in ("reference.jpg", "shot_0001.cube", "shot_0001.cc", "shot_0001_preview.jpg")
        ]
        + [project("look", "look.json"), project("look", "reference.jpg")],
        "qc": [
            asset_key(ASSET, "qc", "latest.pb"),
            asset_key(ASSET, "qc", "log", "denoise-0123456789abcdef01234567.json"),
            asset_key(ASSET, "qc", "upscale", "v2.json"),
            asset_key(ASSET, "qc", "generic", "external-0123456789abcdef", "shot0_ssim_f12.png"),
            asset_key(ASSET, "renditions", "external", SHA[:16] + ".mp4"),
            asset_key(ASSET, "renditions", "external", SHA[:16]),
        ],
    }


def test_stage_writes_covers_every_service_with_a_key() -> None:
    with_key = {name for name in SERVICES if name not in WITHOUT_OBJECT_STORE}
    missing = sorted(with_key - set(STAGE_WRITES))
    assert not missing, f"add the object keys {missing} write to rushes_stack.access.STAGE_WRITES"
    assert set(STAGE_WRITES) <= with_key, "STAGE_WRITES names a service that has no S3 key"
    assert set(real_keys()) == set(STAGE_WRITES)


def test_stage_writes_match_the_services_keys() -> None:
    """Each key a service writes is owned by that service alone: matched by another's pattern, the
    bucket policy would refuse the service its own write."""
    wrong = {
        key: key_owners(key)
        for service, keys in real_keys().items()
        for key in keys
        if key_owners(key) != [service]
    }
    assert not wrong, f"keys not owned by exactly their writer: {wrong}"


def test_enhance_renditions_of_every_fix_are_enhances() -> None:
    from rushes_enhance.fixes import FIXES
    from rushes_storage import asset_key

    assert {fix: key_owners(asset_key(ASSET, "renditions", fix, "v1.mp4")) for fix in FIXES} == {
        fix: ["enhance"] for fix in FIXES
    }


def test_key_patterns_follow_aws_wildcards() -> None:
    assert key_pattern_matches("assets/*/proxy.mp4", "assets/ab/proxy.mp4")
    assert key_pattern_matches("assets/*/proxy.mp4", "assets/ab/x/proxy.mp4")  # `*` crosses `/`
    assert not key_pattern_matches("assets/*/proxy.mp4", "assets/ab/proxy.mp4.bak")
    assert key_pattern_matches("assets/??/a.b", "assets/xy/a.b")
    assert not key_pattern_matches("assets/??/a.b", "assets/xy/aXb")  # `.` is literal
    assert key_owners("uploads/x.mov") == []


def test_bucket_policy_denies_each_service_the_others_outputs() -> None:
    assert s3_bucket_policy("rushes", []) is None
    policy = s3_bucket_policy("rushes", ["tagging", "ingest", "newcomer"])
    assert policy is not None
    statements = {s["Principal"]["AWS"][0]: s for s in policy["Statement"]}
    assert sorted(statements) == [s3_principal(n) for n in ("ingest", "newcomer", "tagging")]
    assert s3_principal("tagging") == "arn:aws:iam::000000000000:user/service-tagging"
    tagging = statements[s3_principal("tagging")]
    assert tagging["Effect"] == "Deny" and tagging["Action"] == list(S3_DENIED_ACTIONS)
    assert "arn:aws:s3:::rushes/assets/*/proxy.mp4" in tagging["Resource"]
    assert "arn:aws:s3:::rushes/assets/*/renditions/external/*" in tagging["Resource"]
    assert not any("/tagging/" in r or "/keyframes/" in r for r in tagging["Resource"])
    # A service the table does not know is denied every listed pattern: it fails closed.
    every = {f"arn:aws:s3:::rushes/{p}" for patterns in STAGE_WRITES.values() for p in patterns}
    assert set(statements[s3_principal("newcomer")]["Resource"]) == every
    assert all(s["Sid"].isalnum() for s in policy["Statement"])


def test_user_policy_writes_only_the_services_own_patterns() -> None:
    policy = s3_user_policy("tagging", "film")
    assert policy["Version"] == "2012-10-17"
    read, write = policy["Statement"]
    assert all(s["Effect"] == "Allow" for s in policy["Statement"]), "MinIO user policies are default-deny"
    assert read["Action"] == list(S3_READ_ACTIONS)
    assert read["Resource"] == ["arn:aws:s3:::film", "arn:aws:s3:::film/*"]
    assert not set(read["Action"]) & set(S3_DENIED_ACTIONS), "no write on the whole bucket"
    assert write["Action"] == ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    assert write["Resource"] == [
        "arn:aws:s3:::film/assets/*/tagging/*",
        "arn:aws:s3:::film/assets/*/keyframes/*",
    ]
    for service, patterns in STAGE_WRITES.items():
        (own,) = [s for s in s3_user_policy(service, "film")["Statement"] if s["Sid"] == "WriteOwnOutputs"]
        assert own["Resource"] == [f"arn:aws:s3:::film/{p}" for p in patterns], service


def test_user_policy_of_a_service_without_patterns_writes_nothing() -> None:
    # Fails closed: a service the table does not know may read but write nothing.
    for service in ("newcomer", *WITHOUT_OBJECT_STORE):
        (read,) = s3_user_policy(service, "rushes")["Statement"]
        assert read["Sid"] == "ReadTheBucket" and read["Action"] == list(S3_READ_ACTIONS), service
    assert json.loads(json.dumps(s3_user_policy("qc", "rushes"))) == s3_user_policy("qc", "rushes")


@pytest.mark.parametrize("bucket", ["", "Rushes", "rushes/*", "rushes*", "a", "rushes?"])
def test_user_policy_refuses_a_bucket_name_that_would_bend_the_arns(bucket: str) -> None:
    with pytest.raises(ValueError, match="is not an S3 bucket name"):
        s3_user_policy("tagging", bucket)


@pytest.fixture(scope="module")
def stack_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackState]:
    """The S3 server of a stack with every service, described by StackState.ensure_access (the path
    `rushes up` takes): its start creates the bucket and sets the policy."""
    from rushes_stack import StackState
    from rushes_stack.components.service import ServiceProcess

    folder = tmp_path_factory.mktemp("s3-policy")
    state = StackState.new(folder)
    for name in SERVICES:
        state.services[name] = ServiceProcess.create(name, f"rushes_{name}", folder / name)
    state.ensure_access(state.services)
    state.s3.start(folder / "s3.log", die_with_parent=True)
    try:
        yield state
    finally:
        state.s3.stop()


def admin_client(state: StackState) -> Minio:
    return Minio(state.s3.endpoint, state.s3.access_key, state.s3.secret_key, secure=False)


def service_client(state: StackState, service: str) -> Minio:
    creds = state.service_credentials[service]
    return Minio(state.s3.endpoint, creds.s3_access_key, creds.s3_secret_key, secure=False)


def put(client: Minio, key: str, data: bytes = b"x") -> None:
    client.put_object("rushes", key, io.BytesIO(data), len(data))


def s3_code(action: Callable[[], object]) -> str:
    """The S3 error code of calling `action`, or "ok"."""
    try:
        action()
    except S3Error as exc:
        return str(exc.code)
    return "ok"


def test_bucket_policy_is_set_at_start(stack_s3: StackState) -> None:
    admin = admin_client(stack_s3)
    assert admin.bucket_exists("rushes")
    assert json.loads(admin.get_bucket_policy("rushes")) == stack_s3.s3.bucket_policy
    assert [s["Principal"]["AWS"] for s in json.loads(admin.get_bucket_policy("rushes"))["Statement"]] == [
        [s3_principal(n)] for n in sorted(set(SERVICES) - WITHOUT_OBJECT_STORE)
    ]
    assert not stack_s3.s3.identities_changed()


def test_service_writes_its_own_outputs_and_reads_the_others(stack_s3: StackState) -> None:
    for service, keys in real_keys().items():
        client = service_client(stack_s3, service)
        for key in keys:
            assert s3_code(partial(put, client, key)) == "ok", (service, key)
        assert s3_code(partial(client.remove_object, "rushes", keys[0])) == "ok"
        put(client, keys[0])
    tagging = service_client(stack_s3, "tagging")
    proxy = f"assets/{ASSET}/proxy.mp4"
    assert tagging.get_object("rushes", proxy).read() == b"x"
    assert f"assets/{ASSET}/proxy.mp4" in {
        o.object_name for o in tagging.list_objects("rushes", prefix=f"assets/{ASSET}/")
    }


def test_service_is_denied_another_services_outputs(stack_s3: StackState) -> None:
    admin = admin_client(stack_s3)
    proxy = f"assets/{ASSET}/proxy.mp4"
    put(admin, proxy, b"ingest's proxy")
    put(admin, f"assets/{ASSET}/tagging/v9.pb", b"tags")
    tagging = service_client(stack_s3, "tagging")
    big = os.urandom(6 * 1024 * 1024)
    assert s3_code(lambda: put(tagging, proxy, b"forged")) == "AccessDenied"
    assert s3_code(lambda: tagging.remove_object("rushes", proxy)) == "AccessDenied"
    assert (
        s3_code(
            lambda: tagging.put_object("rushes", proxy, io.BytesIO(big), len(big), part_size=5 * 1024 * 1024)
        )
        == "AccessDenied"
    )
    assert (
        s3_code(
            lambda: tagging.copy_object(
                "rushes", proxy, CopySource("rushes", f"assets/{ASSET}/tagging/v9.pb")
            )
        )
        == "AccessDenied"
    )
    failed = list(
        tagging.remove_objects("rushes", [DeleteObject(proxy), DeleteObject(f"assets/{ASSET}/tagging/v9.pb")])
    )
    assert [(e.name, e.code) for e in failed] == [(proxy, "AccessDenied")]
    upload = admin._create_multipart_upload("rushes", proxy, {})
    assert s3_code(lambda: tagging._abort_multipart_upload("rushes", proxy, upload)) == "AccessDenied"
    admin._abort_multipart_upload("rushes", proxy, upload)
    assert admin.get_object("rushes", proxy).read() == b"ingest's proxy"
    # The two stages that write under renditions/ each keep to their own folder.
    qc, enhance = service_client(stack_s3, "qc"), service_client(stack_s3, "enhance")
    assert s3_code(lambda: put(qc, f"assets/{ASSET}/renditions/denoise/v1.mp4")) == "AccessDenied"
    assert (
        s3_code(lambda: put(enhance, f"assets/{ASSET}/renditions/external/{SHA[:16]}.mp4")) == "AccessDenied"
    )
    assert s3_code(lambda: put(enhance, f"assets/{ASSET}/ingest.json")) == "AccessDenied"
    # Object tags and the bucket policy itself are out of a service key's reach.
    tags = Tags.new_object_tags()
    tags["stage"] = "forged"
    assert s3_code(lambda: tagging.set_object_tags("rushes", proxy, tags)) == "AccessDenied"
    assert s3_code(lambda: tagging.delete_bucket_policy("rushes")) == "AccessDenied"
    assert (
        s3_code(
            lambda: tagging.set_bucket_policy(
                "rushes", json.dumps({"Version": "2012-10-17", "Statement": []})
            )
        )
        == "AccessDenied"
    )
    # The admin key is not named by the policy: it may replace and delete anything.
    put(admin, proxy, b"replaced by an operator")
    admin.remove_object("rushes", proxy)
    assert s3_code(lambda: admin.stat_object("rushes", proxy)) == "NoSuchKey"


def test_bucket_policy_follows_the_description(stack_s3: StackState) -> None:
    s3 = stack_s3.s3
    tagging = service_client(stack_s3, "tagging")
    proxy = f"assets/{ASSET}/proxy.mp4"
    assert s3_code(lambda: put(tagging, proxy)) == "AccessDenied"
    kept = s3.bucket_policy
    try:
        s3.bucket_policy = None
        assert s3.identities_changed()  # `up` restarts the server to apply the new description
        s3.apply_bucket_policy()
        assert s3_code(lambda: admin_client(stack_s3).get_bucket_policy("rushes")) == "NoSuchBucketPolicy"
        assert s3_code(lambda: put(tagging, proxy)) == "ok"
        s3.apply_bucket_policy()  # idempotent: no policy to remove is no error
    finally:
        s3.bucket_policy = kept
        s3.apply_bucket_policy()
    assert s3_code(lambda: put(tagging, proxy)) == "AccessDenied"
    assert not s3.identities_changed()


def test_bucket_policy_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a bucket"):
        S3Server.create(tmp_path).apply_bucket_policy()
