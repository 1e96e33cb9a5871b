"""CLI failures: each carries the one line the user reads and the exit code."""

from __future__ import annotations

import grpc

EXIT_OK = 0
EXIT_FAILED = 1  # some input was rejected or some asset failed
EXIT_USAGE = 2  # wrong arguments or configuration, including a wrong or insufficient token:
# "rushes: <what>: unauthenticated: ..." (no or unknown token) or "...: permission_denied: ..." (role)
EXIT_UNAVAILABLE = 3  # the stack (or one of its parts) is not reachable


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
_USAGE = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


def from_rpc_error(what: str, error: grpc.aio.AioRpcError | grpc.RpcError) -> CliError:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else str(error)) or code.name
    details = " ".join(str(details).split())  # one line, whatever the server sent
    if code in _UNAVAILABLE:
        return CliError(f"{what}: unavailable ({details})", EXIT_UNAVAILABLE)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return CliError(f"{what}: unauthenticated: {details} (check --token or RUSHES_TOKEN)", EXIT_USAGE)
    if code in _USAGE:
        return CliError(f"{what}: {code.name.lower()}: {details}", EXIT_USAGE)
    if code == grpc.StatusCode.NOT_FOUND:
        return CliError(f"{what}: not found: {details}", EXIT_FAILED)
    return CliError(f"{what}: {details}", EXIT_FAILED)
