"""atheris fuzz target over the entry points that parse untrusted bytes: rushes_media.probe (a file
from outside) and rushes_events.decode_event (a payload from the bus).

Contract under test: bad bytes end in MediaRejected / PoisonMessage, never in another exception,
a hang or a crash. Run: `python fuzz_probe_target.py [corpus dirs] -max_total_time=20`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from rushes_config import MediaLimits
    from rushes_events import PoisonMessage, decode_event
    from rushes_events.registry import EVENT_TYPES
    from rushes_media import MediaRejected, probe

SUBJECTS = sorted(s for s in EVENT_TYPES if not s.endswith(">"))
LIMITS = MediaLimits(probe_timeout_s=5.0, max_bytes=1024 * 1024)
WORK = Path(tempfile.mkdtemp(prefix="rushes-fuzz-"))
SUFFIXES = (".mp4", ".mkv", ".mov", ".wav", ".m3u8", ".ts")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        subject = SUBJECTS[fdp.ConsumeIntInRange(0, len(SUBJECTS) - 1)]
        with contextlib.suppress(PoisonMessage):
            decode_event(subject, fdp.ConsumeBytes(fdp.remaining_bytes()))
        return
    path = WORK / f"input{SUFFIXES[fdp.ConsumeIntInRange(0, len(SUFFIXES) - 1)]}"
    path.write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
    try:
        probe(path, LIMITS)
    except MediaRejected:
        pass
    finally:
        os.unlink(path)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
