"""Writers for QC test pairs: synthetic frames (rushes_qc.synthetic) encoded as real H.264 files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rushes_qc.synthetic import Frames
from rushes_testing.media_builders import write_video

# High quality for the pairs themselves, so the injected artefact is what differs; "mild
# re-encode" is a clean rendition encoded again at an ordinary delivery quality.
PAIR_CRF = "12"
MILD_REENCODE_CRF = "28"


def encode(path: Path, frames: Frames, *, crf: str = PAIR_CRF, fps: int = 25) -> Path:
    height, width = frames[0].shape[:2]
    return write_video(path, frames, width=width, height=height, fps=fps,
                       codec_options={"crf": crf, "preset": "veryfast"})  # fmt: skip


def truncate(source: Path, target: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def frames_of(count: int, width: int, height: int, seed: int = 0) -> Frames:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return [np.roll(base, i, axis=1) for i in range(count)]
