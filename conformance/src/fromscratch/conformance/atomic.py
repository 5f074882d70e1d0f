"""Atomic writes: a file the suite writes is either what it was before, or complete.

The bytes go to a temporary file beside the destination, are flushed to disk, and the
temporary file is renamed over the destination. The rename is atomic within one file
system, so a crash or an error leaves no half-written report, results file or weights.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes(path: Path, *chunks: bytes) -> Path:
    """Write ``chunks``, one after another, to ``path`` atomically; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
