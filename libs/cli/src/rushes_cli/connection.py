"""Where the CLI finds the stack: the local stack's state folder, or RUSHES_* variables."""

from __future__ import annotations

import os
from pathlib import Path

from rushes_config import ConfigError, RushesSettings, load_settings
from rushes_grpc.auth import TOKEN_ENV
from rushes_stack import StackStateError, load_state, service_env

from rushes_cli.errors import EXIT_UNAVAILABLE, EXIT_USAGE, CliError


def default_state_dir() -> Path:
    return Path(os.environ.get("RUSHES_STATE_DIR", ".rushes"))


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(f"cannot read the stack's token {path}: {exc.strerror}", EXIT_USAGE) from None


def client_settings(state_dir: Path, *, token: str | None = None) -> RushesSettings:
    """Settings for reaching a stack: the local stack's when one runs under state_dir, else the
    environment's (a remote deployment sets RUSHES_INGEST_ADDRESS and friends).

    The CLI is a short-lived process of its own, so it adopts the stack's variables into its
    environment; variables the user set win, so one can point a single command elsewhere.

    The gRPC token every call sends (RUSHES_TOKEN, read by rushes_grpc.client_channel), first
    found wins: `--token`, $RUSHES_TOKEN, the local stack's admin token (<state dir>/auth/admin.token).
    """
    if token is not None:
        if not token.strip() or any(c.isspace() for c in token.strip()):
            raise CliError("--token must be a non-empty token without spaces", EXIT_USAGE)
        os.environ[TOKEN_ENV] = token.strip()
    try:
        state = load_state(state_dir)
    except StackStateError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if state is not None:
        for key, value in service_env(state).items():
            if not key.startswith(("RUSHES_GRPC__", "RUSHES_METRICS_", "RUSHES_SERVICE_NAME")):
                os.environ.setdefault(key, value)
        stack_token = _read_token(state.token_path("admin"))
        if stack_token:
            os.environ.setdefault(TOKEN_ENV, stack_token)
    elif "RUSHES_INGEST_ADDRESS" not in os.environ:
        raise CliError(
            f"no running stack under {state_dir}/ (start one with `rushes up`, or set RUSHES_INGEST_ADDRESS)",
            EXIT_UNAVAILABLE,
        )
    try:
        return load_settings()
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
