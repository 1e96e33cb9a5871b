"""Server interceptor recording rushes_grpc_requests_total and the latency of every handled call."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from rushes_metrics import GRPC_HANDLED, GRPC_LATENCY


def split_method(full_method: str) -> tuple[str, str]:
    """ "/rushes.library.v1.LibraryService/GetAsset" -> ("rushes.library.v1.LibraryService", "GetAsset")."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service or "unknown", method or "unknown"


def _final_code(context: grpc.aio.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    try:
        code = context.code()
    except (NotImplementedError, AttributeError):
        code = None
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        # Some grpcio builds hand back the numeric core code rather than the enum.
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts each call by (service, method, code) and times it by (service, method).

    Calls to methods no servicer registered are not recorded: their names come from the client
    and would let anyone create unbounded label values.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        service, method = split_method(handler_call_details.method)
        return _wrap(handler, service, method)


def _record(service: str, method: str, started: float, code: grpc.StatusCode) -> None:
    GRPC_LATENCY.labels(service=service, method=method).observe(time.perf_counter() - started)
    GRPC_HANDLED.labels(service=service, method=method, code=code.name).inc()


def _wrap(handler: grpc.RpcMethodHandler, service: str, method: str) -> grpc.RpcMethodHandler:
    if handler.unary_unary:
        behavior, factory = handler.unary_unary, grpc.unary_unary_rpc_method_handler
    elif handler.unary_stream:
        behavior, factory = handler.unary_stream, grpc.unary_stream_rpc_method_handler
    elif handler.stream_unary:
        behavior, factory = handler.stream_unary, grpc.stream_unary_rpc_method_handler
    else:
        behavior, factory = handler.stream_stream, grpc.stream_stream_rpc_method_handler

    wrapped: Callable[..., Any]
    if inspect.isasyncgenfunction(behavior):

        async def wrapped_stream(
            request_or_iterator: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            started, error = time.perf_counter(), None
            try:
                async for response in behavior(request_or_iterator, context):
                    yield response
            except BaseException as exc:
                error = exc
                raise
            finally:
                _record(service, method, started, _final_code(context, error))

        wrapped = wrapped_stream
    else:

        async def wrapped_call(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
            started, error = time.perf_counter(), None
            try:
                result = behavior(request_or_iterator, context)
                if inspect.isawaitable(result):
                    result = await result
                return result
            except BaseException as exc:
                error = exc
                raise
            finally:
                _record(service, method, started, _final_code(context, error))

        wrapped = wrapped_call

    return factory(
        wrapped,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
