"""rushes_grpc against a real asyncio server and channel on loopback."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_testkit import LIBRARY
from prometheus_client import REGISTRY
from rushes.library.v1 import library_service_pb2 as library_pb2
from rushes.library.v1 import library_service_pb2_grpc as library_grpc
from rushes_grpc import RunningServer, call_with_deadline, client_channel, run_until_signal, start_server
from rushes_grpc.interceptor import split_method

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def handled(method: str, code: str) -> float:
    labels = {"service": LIBRARY, "method": method, "code": code}
    return REGISTRY.get_sample_value("rushes_grpc_requests_total", labels) or 0.0


async def health_of(channel: grpc.aio.Channel, service: str) -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service))
    return response.status


async def test_health_serves_every_name_and_flips(library_server: RunningServer) -> None:
    assert library_server.port > 0
    async with client_channel(library_server.address) as channel:
        assert await health_of(channel, "") == SERVING
        assert await health_of(channel, LIBRARY) == SERVING
        library_server.set_serving(False)
        assert await health_of(channel, "") == NOT_SERVING
        assert await health_of(channel, LIBRARY) == NOT_SERVING
        library_server.set_serving(True)
        assert await health_of(channel, LIBRARY) == SERVING
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await health_of(channel, "no.such.Service")
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_health_watch_streams_changes(library_server: RunningServer) -> None:
    async with client_channel(library_server.address) as channel:
        stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=LIBRARY))
        updates = stream.__aiter__()
        assert (await asyncio.wait_for(updates.__anext__(), 5)).status == SERVING
        library_server.set_serving(False)
        assert (await asyncio.wait_for(updates.__anext__(), 5)).status == NOT_SERVING
        stream.cancel()


async def test_reflection_lists_the_services(library_server: RunningServer) -> None:
    async with client_channel(library_server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def ask() -> reflection_pb2.ServerReflectionRequest:
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names: list[str] = []
        async for response in stub.ServerReflectionInfo(ask()):
            names = [s.name for s in response.list_services_response.service]
        assert LIBRARY in names and "grpc.health.v1.Health" in names


async def test_metrics_interceptor_counts_calls_by_code(library_server: RunningServer) -> None:
    before = {code: handled("GetAsset", code) for code in ("OK", "NOT_FOUND")}
    crashed_before = handled("ListAssets", "UNKNOWN")
    latency_before = REGISTRY.get_sample_value(
        "rushes_grpc_request_duration_seconds_count", {"service": LIBRARY, "method": "GetAsset"}
    )
    async with client_channel(library_server.address) as channel:
        stub = library_grpc.LibraryServiceStub(channel)
        response = await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="known"))
        assert response.asset.asset_id == "known"
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="nope"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as crashed:
            await stub.ListAssets(library_pb2.ListAssetsRequest())
        assert crashed.value.code() == grpc.StatusCode.UNKNOWN
    assert handled("GetAsset", "OK") == before["OK"] + 1
    assert handled("GetAsset", "NOT_FOUND") == before["NOT_FOUND"] + 1
    assert handled("ListAssets", "UNKNOWN") == crashed_before + 1
    latency_after = REGISTRY.get_sample_value(
        "rushes_grpc_request_duration_seconds_count", {"service": LIBRARY, "method": "GetAsset"}
    )
    assert latency_after == (latency_before or 0.0) + 2


async def test_unregistered_methods_are_not_counted(library_server: RunningServer) -> None:
    async with client_channel(library_server.address) as channel:
        call = channel.unary_unary("/rushes.library.v1.LibraryService/Nope")
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await call(b"")
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert (
        REGISTRY.get_sample_value(
            "rushes_grpc_requests_total", {"service": LIBRARY, "method": "Nope", "code": "UNIMPLEMENTED"}
        )
        is None
    )


async def test_client_default_deadline_applies_without_a_timeout(
    library_server: RunningServer,
) -> None:
    async with client_channel(library_server.address, default_timeout_s=0.2) as channel:
        stub = library_grpc.LibraryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="slow"))
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        with pytest.raises(grpc.aio.AioRpcError) as explicit:
            await call_with_deadline(
                stub.GetAsset, library_pb2.GetAssetRequest(asset_id="slow"), timeout_s=0.1
            )
        assert explicit.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_message_size_limit_from_settings(library_server: RunningServer) -> None:
    # The server was started with a 64 KiB limit; the client allows more, so the server refuses.
    async with client_channel(library_server.address, max_message_bytes=1024 * 1024) as channel:
        stub = library_grpc.LibraryServiceStub(channel)
        ok = await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="big" + "x" * 1000))
        assert ok.asset.asset_id.startswith("big")
        with pytest.raises(grpc.aio.AioRpcError) as too_big:
            await stub.GetAsset(library_pb2.GetAssetRequest(asset_id="big" + "x" * 100_000))
        assert too_big.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_taken_port_is_a_clear_error(library_server: RunningServer) -> None:
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{library_server.port}"):
        await start_server(
            name="second",
            address=f"127.0.0.1:{library_server.port}",
            register=lambda s: None,
            service_names=[LIBRARY],
        )


async def test_start_server_requires_service_names() -> None:
    with pytest.raises(ValueError, match="service_names"):
        await start_server(name="x", address="127.0.0.1:0", register=lambda s: None, service_names=[])


async def test_stop_reports_not_serving_and_closes(library_server: RunningServer) -> None:
    async with client_channel(library_server.address, default_timeout_s=2) as channel:
        assert await health_of(channel, "") == SERVING
        await library_server.stop(0.5)
        assert library_server.health.status("") == NOT_SERVING
        library_server.set_serving(True)  # a late dependency callback must not resurrect it
        assert library_server.health.status(LIBRARY) == NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await health_of(channel, "")
        assert gone.value.code() == grpc.StatusCode.UNAVAILABLE


def test_split_method() -> None:
    assert split_method("/rushes.library.v1.LibraryService/GetAsset") == (LIBRARY, "GetAsset")
    assert split_method("garbage") == ("unknown", "garbage")


def test_client_channel_refuses_an_address_without_port() -> None:
    with pytest.raises(ValueError, match="host:port"):
        client_channel("localhost")


async def test_run_until_signal_sets_stop_on_sigterm() -> None:
    stop = asyncio.Event()
    waiter = asyncio.create_task(run_until_signal(stop))
    await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(waiter, 5)
    assert stop.is_set()
    # The handlers are gone again: the loop no longer intercepts SIGTERM.
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
