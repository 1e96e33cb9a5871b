"""Tiny HTTP probe for health checks (urllib: no client library needed for a GET)."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status of GET `url`, or None when nothing answered (refused, timeout, reset)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            return int(response.status)
    except urllib.error.HTTPError as exc:  # an error status is still an answer
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None
