"""Pictures in: frames of an asset's proxy and reference images, both untrusted.

Video goes through rushes_media's guarded open (limits, demuxer allowlist, no nested opens,
time bounds). Images are accepted as PNG or JPEG only, and their declared size is read from the
header and checked against the media limits before a decoder allocates anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from rushes_config import MediaLimits
from rushes_media.frames import UNBOUNDED, FrameRequestError
from rushes_media.frames import frames_at as media_frames_at

from rushes_grading.errors import GradingRefused

MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


@dataclass(frozen=True)
class ReferenceImage:
    rgb: np.ndarray  # uint8 RGB (bit depth reduced for statistics)
    bit_depth: int  # of the file: 8, or 16 for 16-bit PNG


def _image_size(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the header; GradingRefused when it is not a PNG or JPEG."""
    if data.startswith(_PNG_MAGIC) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"\xff\xd8"):
        position = 2
        while position + 9 < len(data):
            if data[position] != 0xFF:
                position += 1
                continue
            marker = data[position + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                position += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[position + 2 : position + 4])[0]
            if marker in _JPEG_SOF:
                height, width = struct.unpack(">HH", data[position + 5 : position + 9])
                return "jpeg", width, height
            position += 2 + length
        raise GradingRefused(
            "invalid_argument", "the reference is a JPEG without a frame header (truncated?)"
        )
    raise GradingRefused(
        "invalid_argument",
        "the reference is not an image: only PNG and JPEG references are accepted",
        code="not_an_image",
    )


def decode_image(data: bytes, limits: MediaLimits) -> ReferenceImage:
    """A reference image as RGB, refusing non-images, corrupt files and hostile sizes."""
    if not data:
        raise GradingRefused("invalid_argument", "the reference image is empty (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise GradingRefused(
            "invalid_argument", f"the reference image is {len(data)} bytes; the limit is {MAX_IMAGE_BYTES}"
        )
    kind, width, height = _image_size(data)
    if not (1 <= width <= limits.max_width and 1 <= height <= limits.max_height):
        raise GradingRefused(
            "invalid_argument",
            f"the reference {kind.upper()} declares {width}x{height} pixels; "
            f"the limit is {limits.max_width}x{limits.max_height}",
            code="dimensions_exceed_limit",
        )
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    if decoded is None or decoded.size == 0 or decoded.shape[:2] != (height, width):
        raise GradingRefused(
            "invalid_argument",
            f"the reference {kind.upper()} is corrupt: it does not decode",
            code="corrupt_image",
        )
    bit_depth = 16 if decoded.dtype == np.uint16 else 8
    if decoded.ndim == 2:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_GRAY2BGR)
    elif decoded.shape[2] == 4:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2BGR)
    rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    if rgb.dtype == np.uint16:
        rgb = np.rint(rgb / 257.0).astype(np.uint8)
    return ReferenceImage(rgb=np.ascontiguousarray(rgb), bit_depth=bit_depth)


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled to fit max_side (never up), even sides for chroma-subsampled paths."""
    if max_side <= 0 or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def frames_at(
    path: Path, times_s: list[float], limits: MediaLimits, *, max_side: int = 0
) -> tuple[list[np.ndarray], float]:
    """RGB frames on screen at each time, in the order given, and the file's duration.

    Decoding is rushes_media's shared reader: upright (display rotation re-applied) and square-pixel,
    fitted inside max_side (0: full size). Raises GradingRefused for a request the video cannot meet
    (a time outside it, no video stream) and MediaRejected for a file that fails the guards.
    """
    bound = max_side if max_side > 0 else UNBOUNDED
    try:
        result = media_frames_at(path, times_s, limits, max_width=bound, max_height=bound)
    except FrameRequestError as exc:
        if exc.code == "no_video":
            raise GradingRefused("failed_precondition", exc.reason, code=exc.code) from exc
        raise GradingRefused("invalid_argument", exc.reason, code=exc.code) from exc
    return result.pictures, result.duration_s
