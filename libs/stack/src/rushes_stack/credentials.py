"""Generated secrets for the local stack: every server requires them, none has a default."""

from __future__ import annotations

import secrets


def new_secret(nbytes: int = 24) -> str:
    """A random secret made of [0-9a-f] only, safe in URLs, config files and command lines."""
    return secrets.token_hex(nbytes)


def new_user(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
