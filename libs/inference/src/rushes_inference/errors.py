"""What can go wrong when calling a model, split by what the caller should do about it."""

from __future__ import annotations


class ModelUnavailable(Exception):
    """The model cannot answer now (Triton down or unreachable, model not loaded, deadline exceeded,
    crashed backend). Retryable: a consumer naks and tries again later."""

    retryable = True

    def __init__(self, message: str, *, model: str, code: str = "UNAVAILABLE") -> None:
        super().__init__(message)
        self.model = model
        self.code = code


class InferenceError(Exception):
    """The model answered with an error for this request (invalid input, a failure inside the model).
    Not retryable: the same request would fail the same way."""

    retryable = False

    def __init__(self, message: str, *, model: str, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.model = model
        self.code = code
