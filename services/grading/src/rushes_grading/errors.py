"""Why a grading request cannot be served: the caller's fault, each with one readable line."""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["not_found", "invalid_argument", "failed_precondition"]


class GradingRefused(Exception):
    """The request (or the asset it names) cannot be graded; `kind` picks the gRPC status."""

    def __init__(self, kind: ErrorKind, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code or kind  # stable machine-readable reason (skipped_reason of automatic grades)
