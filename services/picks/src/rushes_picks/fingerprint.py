"""What two takes are compared on to find near-duplicates: a keyframe hash and the words said."""

from __future__ import annotations

from difflib import SequenceMatcher

import cv2
import numpy as np

from rushes_picks.delivery import FILLERS, tokens

HASH_BITS = 64


class KeyframeUnreadable(ValueError):
    """The keyframe bytes are not a decodable image."""


def difference_hash(image_bytes: bytes) -> str:
    """64-bit dHash of an image (16 hex digits): robust to scaling, compression and mild blur,
    so the same framing shot twice hashes a few bits apart while a different setup differs widely."""
    buffer = np.frombuffer(image_bytes, dtype=np.uint8)
    gray = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE) if buffer.size else None
    if gray is None:
        raise KeyframeUnreadable(f"keyframe ({len(image_bytes)} bytes) is not a decodable image")
    return difference_hash_of(gray)


def difference_hash_of(gray: np.ndarray) -> str:
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hash_distance(a: str, b: str) -> int | None:
    """Differing bits between two hashes; None when either is missing."""
    if not a or not b:
        return None
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def content_tokens(text: str) -> list[str]:
    """The words that carry the line (fillers and cut-short words dropped)."""
    return [t.rstrip("-") for t in tokens(text) if t not in FILLERS and not t.endswith("-")]


def text_similarity(a: str, b: str) -> float | None:
    """Word-sequence similarity in [0, 1] (a restart or a swapped word costs little); None when
    either take says nothing."""
    ta, tb = content_tokens(a), content_tokens(b)
    if not ta or not tb:
        return None
    return round(SequenceMatcher(a=ta, b=tb, autojunk=False).ratio(), 4)
