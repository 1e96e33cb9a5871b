"""The atheris fuzz target runs briefly in CI (RUSHES_FUZZ_SECONDS, default 20), seeded with a real
clip, a WAV and the hostile corpus; any exception other than MediaRejected / PoisonMessage, a crash
or a hang fails the run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rushes_testing.hostile import build_hostile_corpus
from rushes_testing.media import make_clip

pytestmark = [pytest.mark.slow]
TARGET = Path(__file__).with_name("fuzz_probe_target.py")
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
# Inputs the fuzzer once found to break a contract: replayed first on every run (regressions).
REGRESSIONS = Path(__file__).with_name("fuzz_seeds")


def test_probe_and_event_decoding_survive_fuzzing(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is pinned in requirements.lock; install it to fuzz")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    make_clip(seeds / "clip.mp4", seconds=0.4, width=64, height=48, seed=1)
    shutil.copy(SAMPLES / "recorder.wav", seeds / "recorder.wav")
    for found in REGRESSIONS.iterdir():
        shutil.copy(found, seeds / found.name)
    for case in build_hostile_corpus(tmp_path / "hostile"):
        if case.path.stat().st_size <= 256 * 1024:
            shutil.copy(case.path, seeds / case.name)
    seconds = int(os.environ.get("RUSHES_FUZZ_SECONDS", "20"))
    result = subprocess.run(
        [sys.executable, str(TARGET), str(seeds), f"-max_total_time={seconds}", "-timeout=10",
         "-rss_limit_mb=2048", "-max_len=262144", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=seconds + 120, cwd=tmp_path,
    )  # fmt: skip
    crash = result.stderr.find("Uncaught Python exception")
    tail = result.stderr[crash : crash + 4000] if crash >= 0 else result.stderr[-4000:]
    assert result.returncode == 0, tail
    done = re.search(r"Done (\d+) runs", tail)
    assert done and int(done.group(1)) >= 50, tail  # it really fuzzed, not just loaded the seeds
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("timeout-*")), tail
