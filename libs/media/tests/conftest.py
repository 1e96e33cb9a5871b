"""Fixtures for rushes_media tests: the committed samples, their truth, and generated media.

The generators live in tests/fixtures/ (shared with `make run` and other suites) and are imported
from there by path, since tests/ is not a package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rushes_config import MediaLimits

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
SAMPLES_DIR = FIXTURES_DIR / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    return json.loads((SAMPLES_DIR / "TRUTH.json").read_text())["clips"]


@pytest.fixture
def limits() -> MediaLimits:
    return MediaLimits()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small synthetic files shared by several tests (written once per session)."""
    from fractions import Fraction

    from rushes_testing.media_builders import solid_frames, tone, write_video

    directory = tmp_path_factory.mktemp("media")
    # A phone held upright: display matrix -90 (PyAV's counter-clockwise convention).
    write_video(
        directory / "rotated.mp4",
        solid_frames(20, 192, 108),
        width=192,
        height=108,
        rotation=-90,
        audio=tone(0.8),
    )
    # Anamorphic PAL 16:9: 720x576 coded, SAR 64:45, displays as 1024x576.
    write_video(
        directory / "anamorphic.mp4",
        solid_frames(10, 720, 576),
        width=720,
        height=576,
        sample_aspect_ratio=Fraction(64, 45),
    )
    write_video(directory / "full_hd.mp4", solid_frames(10, 1920, 1080), width=1920, height=1080)
    write_video(directory / "silent.mp4", solid_frames(25, 64, 64), width=64, height=64)
    return directory
