"""The one exception media functions raise for input that is the file's fault, and its stable codes."""

from __future__ import annotations

from typing import Final

# Stable machine-readable codes. Callers (gRPC status details, rejection events, the CLI) switch on
# these, so they are part of the public contract: add codes freely, never rename one.
REJECTION_CODES: Final[frozenset[str]] = frozenset(
    {
        "bad_filename",  # the name is unsafe or not valid UTF-8
        "empty_file",  # zero bytes
        "too_large",  # more bytes than limits.max_bytes
        "not_media",  # text, random bytes, or nothing a demuxer recognises
        "unsupported_format",  # a real format that is not on the container allowlist (PNG, ZIP, ...)
        "playlist_or_reference",  # a playlist, SDP, concat script or manifest that points elsewhere
        "dimensions_exceed_limit",  # declared width/height above limits.max_width/max_height
        "duration_exceeds_limit",  # declared duration above limits.max_duration_s
        "frame_rate_exceeds_limit",  # declared frame rate above limits.max_fps
        "too_many_streams",  # more streams than limits.max_streams
        "metadata_too_large",  # tags larger than limits.max_metadata_bytes in total
        "truncated",  # the file ends before the data its header describes
        "unsupported_codec",  # no decoder for the video stream
        "decode_error",  # the decoder failed on the data (corrupt, not merely short)
        "no_streams",  # a container with no audio or video stream
        "probe_timeout",  # probing took longer than limits.probe_timeout_s
        "job_timeout",  # deriving a file took longer than limits.job_timeout_s
    }
)


class MediaRejected(Exception):
    """The file cannot be accepted; `code` is one of REJECTION_CODES, `reason` a readable sentence.

    Raised only for faults of the input. Faults of the machine (disk full, a missing encoder) surface as
    ordinary exceptions so that callers retry them instead of rejecting the asset.
    """

    def __init__(self, code: str, reason: str) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown media rejection code {code!r}")
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    def __reduce__(self) -> tuple[type[MediaRejected], tuple[str, str]]:
        # Keep the two-argument constructor working across process pools and pickling.
        return (MediaRejected, (self.code, self.reason))
