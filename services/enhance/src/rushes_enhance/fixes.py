"""The fixes this service makes, the tagging flags that ask for them, and request validation."""

from __future__ import annotations

from typing import Final, Literal

Fix = Literal["stabilize", "denoise", "upscale"]
FIXES: Final[tuple[Fix, ...]] = ("stabilize", "denoise", "upscale")
# Tagging's enhancement flags (rushes_tagging.analysis.flags) -> the fix that answers each.
FLAG_TO_FIX: Final[dict[str, Fix]] = {
    "needs_stabilization": "stabilize",
    "needs_denoise": "denoise",
    "needs_upscale": "upscale",
}


class EnhanceRequestError(ValueError):
    """The request is wrong (unknown fix, unknown shot, too much work): INVALID_ARGUMENT."""


class SourceUnavailable(Exception):
    """The asset has nothing to enhance (never ingested, audio only, proxy missing): FAILED_PRECONDITION."""


def parse_fixes(names: list[str]) -> list[Fix]:
    """Validated, de-duplicated, in pipeline order (stabilize before denoise before upscale)."""
    if not names:
        raise EnhanceRequestError(f"name at least one fix: {', '.join(FIXES)}")
    unknown = [name for name in names if name not in FIXES]
    if unknown:
        raise EnhanceRequestError(f"unknown fix {', '.join(map(repr, unknown))}; known: {', '.join(FIXES)}")
    return [fix for fix in FIXES if fix in names]
