"""Bearer tokens and roles against a real rushes_grpc server on loopback (auth on via settings)."""

from __future__ import annotations

import json
import logging
import shutil
import stat
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from rushes.ingest.v1 import ingest_service_pb2 as ingest_pb2
from rushes.ingest.v1 import ingest_service_pb2_grpc as ingest_grpc
from rushes.library.v1 import library_service_pb2 as library_pb2
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes_config import ConfigError, GrpcSettings
from rushes_grpc import RunningServer, client_channel, current_principal, start_server
from rushes_grpc.auth import (
    METHOD_ROLES,
    AuthConfigError,
    BearerTokenInterceptor,
    Role,
    TokenStore,
    bearer_token,
    new_token,
    required_role,
    write_principals_file,
)

LIBRARY = "rushes.library.v1.LibraryService"
INGEST = "rushes.ingest.v1.IngestService"
TOKENS = {role: new_token() for role in Role}


class RecordingLibrary(library_grpc.LibraryServiceServicer):
    """Answers with the principal rushes_grpc authenticated, so the test sees what a servicer sees."""

    async def GetAsset(
        self, request: library_pb2.GetAssetRequest, context: grpc.aio.ServicerContext
    ) -> library_pb2.GetAssetResponse:
        response = library_pb2.GetAssetResponse()
        response.asset.asset_id = request.asset_id
        response.asset.project = current_principal(context)
        return response

    async def CorrectValue(
        self, request: library_pb2.CorrectValueRequest, context: grpc.aio.ServicerContext
    ) -> library_pb2.CorrectValueResponse:
        return library_pb2.CorrectValueResponse()


class CountingIngest(ingest_grpc.IngestServiceServicer):
    """A client-streaming method: the refusal must come before any chunk is read."""

    chunks_read = 0

    async def IngestFile(
        self, request_iterator: AsyncIterator[ingest_pb2.IngestFileRequest], context: grpc.aio.ServicerContext
    ) -> ingest_pb2.IngestFileResponse:
        async for _ in request_iterator:
            CountingIngest.chunks_read += 1
        return ingest_pb2.IngestFileResponse()


@pytest.fixture(scope="module")
def principals_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "principals.json"
    write_principals_file(path, [(f"{role.label}-user", role, TOKENS[role]) for role in Role])
    return path


@pytest.fixture
async def secured(principals_file: Path) -> AsyncIterator[RunningServer]:
    def register(server: grpc.aio.Server) -> None:
        library_grpc.add_LibraryServiceServicer_to_server(RecordingLibrary(), server)
        ingest_grpc.add_IngestServiceServicer_to_server(CountingIngest(), server)

    server = await start_server(
        name="auth-test",
        address="127.0.0.1:0",
        register=register,
        service_names=[LIBRARY, INGEST],
        settings=GrpcSettings(address="127.0.0.1:0", grace_s=1.0, auth_tokens_file=str(principals_file)),
    )
    yield server
    await server.stop(0)


async def get_asset(address: str, token: str | None) -> library_pb2.GetAssetResponse:
    async with client_channel(address, token=token) as channel:
        stub = library_grpc.LibraryServiceStub(channel)
        return await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="a1"))


async def correct(address: str, token: str | None) -> None:
    async with client_channel(address, token=token) as channel:
        await library_grpc.LibraryServiceStub(channel).CorrectValue(library_pb2.CorrectValueRequest())


def test_principals_file_holds_digests_only_and_is_private(principals_file: Path) -> None:
    text = principals_file.read_text()
    assert all(token not in text for token in TOKENS.values())
    assert stat.S_IMODE(principals_file.stat().st_mode) == 0o600
    assert {p["role"] for p in json.loads(text)["principals"]} == {"viewer", "editor", "reviewer", "admin"}


async def test_no_token_is_unauthenticated(secured: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUSHES_TOKEN", raising=False)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await get_asset(secured.address, None)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing bearer token" in (refused.value.details() or "")


async def test_wrong_token_is_unauthenticated_and_not_logged(
    secured: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = new_token()
    with caplog.at_level(logging.DEBUG), pytest.raises(grpc.aio.AioRpcError) as refused:
        await get_asset(secured.address, wrong)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "invalid bearer token" in (refused.value.details() or "")
    assert "refused /rushes.library.v1.LibraryService/GetAsset" in caplog.text
    assert wrong not in caplog.text and wrong not in (refused.value.details() or "")


async def test_viewer_reads_and_the_servicer_sees_the_principal(secured: RunningServer) -> None:
    response = await get_asset(secured.address, TOKENS[Role.VIEWER])
    assert response.asset.asset_id == "a1" and response.asset.project == "viewer-user"


async def test_review_verdict_needs_reviewer(secured: RunningServer) -> None:
    for role in (Role.VIEWER, Role.EDITOR):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await correct(secured.address, TOKENS[role])
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert f"role {role.label}; CorrectValue needs reviewer" in (denied.value.details() or "")
    await correct(secured.address, TOKENS[Role.REVIEWER])
    await correct(secured.address, TOKENS[Role.ADMIN])


async def test_streaming_call_refused_before_the_servicer_reads(secured: RunningServer) -> None:
    async def chunks() -> AsyncIterator[ingest_pb2.IngestFileRequest]:
        for _ in range(3):
            yield ingest_pb2.IngestFileRequest()

    before = CountingIngest.chunks_read
    async with client_channel(secured.address, token=TOKENS[Role.VIEWER]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await ingest_grpc.IngestServiceStub(channel).IngestFile(chunks())
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert CountingIngest.chunks_read == before
    async with client_channel(secured.address, token=TOKENS[Role.EDITOR]) as channel:
        await ingest_grpc.IngestServiceStub(channel).IngestFile(chunks())
    assert CountingIngest.chunks_read == before + 3


async def test_health_and_reflection_stay_open(secured: RunningServer) -> None:
    async with client_channel(secured.address, token="") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=LIBRARY)
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = [s.name async for r in stream for s in r.list_services_response.service]
    assert LIBRARY in names


async def test_ambient_token_from_environment(
    secured: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSHES_TOKEN", TOKENS[Role.ADMIN])
    response = await get_asset(secured.address, None)
    assert response.asset.project == "admin-user"


async def test_auth_off_without_settings_and_principal_empty() -> None:
    server = await start_server(
        name="open",
        address="127.0.0.1:0",
        register=lambda s: library_grpc.add_LibraryServiceServicer_to_server(RecordingLibrary(), s),
        service_names=[LIBRARY],
    )
    try:
        response = await get_asset(server.address, None)
    finally:
        await server.stop(0)
    assert response.asset.project == ""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        ("{not json", "cannot be read"),
        ('{"version": 1, "principals": []}', "lists no principal"),
        (
            '{"version": 1, "principals": [{"name": "x", "role": "boss", "token_sha256": "'
            + "0" * 64
            + '"}]}',
            "unknown role 'boss'",
        ),
        (
            '{"version": 1, "principals": [{"name": "x", "role": "admin", "token_sha256": "abc"}]}',
            "not a hex SHA-256",
        ),
        ('{"version": 2, "principals": []}', "version 2"),
    ],
)
async def test_bad_principals_file_stops_the_server(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "principals.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match="RUSHES_GRPC__AUTH_TOKENS_FILE") as failed:
        await start_server(
            name="bad",
            address="127.0.0.1:0",
            register=lambda s: None,
            service_names=[LIBRARY],
            settings=GrpcSettings(auth_tokens_file=str(path)),
        )
    assert problem in str(failed.value)


def test_permission_table_decisions() -> None:
    expect = {
        "/rushes.library.v1.SearchService/Search": Role.VIEWER,
        "/rushes.library.v1.LibraryService/GetAsset": Role.VIEWER,
        "/rushes.library.v1.LibraryService/ListReviewItems": Role.VIEWER,
        "/rushes.library.v1.LibraryService/DecideReviewItem": Role.REVIEWER,
        "/rushes.library.v1.LibraryService/CorrectValue": Role.REVIEWER,
        "/rushes.tagging.v1.TaggingService/Retag": Role.EDITOR,
        "/rushes.grading.v1.GradingService/MatchLook": Role.EDITOR,
        "/rushes.enhance.v1.EnhanceService/Enhance": Role.EDITOR,
        "/rushes.picks.v1.PicksService/AssembleCut": Role.EDITOR,
        "/rushes.ingest.v1.IngestService/IngestFile": Role.EDITOR,
        "/rushes.future.v1.FutureService/DropEverything": Role.ADMIN,  # unlisted: admin only
    }
    assert {method: required_role(method) for method in expect} == expect
    assert required_role("/grpc.health.v1.Health/Check") is None
    assert required_role("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") is None
    assert Role.VIEWER < Role.EDITOR < Role.REVIEWER < Role.ADMIN
    assert all(isinstance(role, Role) for _, role in METHOD_ROLES)


def test_token_store_and_header_parsing() -> None:
    store = TokenStore.from_tokens({"t-1": ("ana", Role.REVIEWER)})
    principal = store.authenticate("t-1")
    assert principal is not None and principal.name == "ana" and principal.role == Role.REVIEWER
    assert store.authenticate("t-2") is None and store.authenticate("") is None
    assert bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("authorization", "bearer  abc ")]) == "abc"
    assert bearer_token([("authorization", "Basic abc")]) is None
    assert bearer_token([("authorization", "Bearer ")]) is None
    assert bearer_token([("x-other", "Bearer abc")]) is None
    with pytest.raises(AuthConfigError):
        TokenStore([])
    with pytest.raises(ValueError, match="without spaces or newlines"):
        BearerTokenInterceptor("a\nb")
    assert "secret" not in repr(BearerTokenInterceptor("secret"))
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("root")


# TLS: a self-signed certificate made with the openssl CLI (no Python crypto package is pinned).
@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    yield cert, key


async def test_tls_with_token(tls_files: tuple[Path, Path], principals_file: Path) -> None:
    cert, key = tls_files
    server = await start_server(
        name="tls",
        address="127.0.0.1:0",
        register=lambda s: library_grpc.add_LibraryServiceServicer_to_server(RecordingLibrary(), s),
        service_names=[LIBRARY],
        settings=GrpcSettings(
            tls_cert_file=str(cert), tls_key_file=str(key), auth_tokens_file=str(principals_file)
        ),
    )
    try:
        async with client_channel(
            server.address, token=TOKENS[Role.EDITOR], tls_ca_file=str(cert)
        ) as channel:
            reply = await library_grpc.LibraryServiceStub(channel).GetAsset(
                library_pb2.GetAssetRequest(asset_id="x")
            )
        assert reply.asset.project == "editor-user"
        # A plaintext client cannot talk to a TLS server.
        async with client_channel(server.address, token=TOKENS[Role.EDITOR]) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await library_grpc.LibraryServiceStub(plain).GetAsset(
                    library_pb2.GetAssetRequest(asset_id="x"), timeout=3
                )
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop(0)


def test_tls_settings_must_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="tls_cert_file and tls_key_file must be set together"):
        GrpcSettings(tls_cert_file="cert.pem")
    with pytest.raises(ValueError, match="tls_client_ca_file needs"):
        GrpcSettings(tls_client_ca_file="ca.pem")


def test_every_rpc_in_proto_has_a_role_below_admin_unless_it_is_meant_to_be_admin() -> None:
    """A new RPC falls to admin by default; that is safe, but every RPC Rushes ships today has been
    given its role on purpose, so an unlisted one is a forgotten decision, not a choice."""
    import re
    from pathlib import Path

    from rushes_grpc.auth import Role, required_role

    proto_root = Path(__file__).resolve().parents[3] / "proto"
    methods = {
        m
        for path in proto_root.rglob("*.proto")
        for m in re.findall(r"^\s*rpc\s+(\w+)", path.read_text(), re.M)
    }
    assert {"Search", "CorrectValue", "IngestFile"} <= methods
    undecided = sorted(m for m in methods if required_role(m) is Role.ADMIN)
    assert undecided == [], f"give these RPCs a role in rushes_grpc.auth.METHOD_ROLES: {undecided}"
