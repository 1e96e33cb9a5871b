"""Write derived files under a temporary name and rename them into place only when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final_path`; rename it over `final_path` on success.

    On any exception (including MediaRejected and KeyboardInterrupt) the temporary file is removed,
    so a reader never sees half a proxy and a failed job leaves nothing behind. The temporary file
    lives in the same directory so the final rename is atomic (same filesystem).
    """
    final_path = Path(final_path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{final_path.name}.", suffix=".part", dir=final_path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    os.chmod(temp_path, 0o644)  # mkstemp creates 0600; derived files are as readable as any other
    try:
        yield temp_path
        os.replace(temp_path, final_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()
        raise
