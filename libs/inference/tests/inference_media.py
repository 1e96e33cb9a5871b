"""Media the rushes_inference tests generate or decode (a unique module name: tests import it directly)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rushes_testing.faces import face_scene, shaded_face  # noqa: F401 (re-exported for these tests)

REPO_ROOT = Path(__file__).resolve().parents[3]
EVAL_DEV_DIR = REPO_ROOT.parent / "shared" / "eval" / "dev"


def tone(seconds: float, frequency_hz: float = 440.0, amplitude: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * 16_000), dtype=np.float32) / 16_000
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def decode_audio_16k_mono(path: Path) -> np.ndarray:
    """Decode any audio file with PyAV and resample to 16 kHz mono float32 in [-1, 1]."""
    import av

    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)
