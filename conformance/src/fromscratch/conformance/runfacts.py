"""What a report was measured on: the date, the code, the software and the machine.

Every number in ``results.json`` depends on these, so the report records them beside
the numbers: the git commit and whether the working tree had uncommitted changes, the
versions of Python, NumPy, torch and scikit-learn, the BLAS libraries NumPy and torch
call with their thread counts (from ``threadpoolctl``), and the CPU.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def _git(*args: str, cwd: Path) -> str | None:
    """The output of a git command, or None where there is no git or no repository."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """The commit checked out in ``cwd`` (the current folder by default) and whether the
    working tree differs from it; both None outside a git repository."""
    where = cwd or Path.cwd()
    commit = _git("rev-parse", "HEAD", cwd=where)
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=where)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def cpu_model() -> str:
    """The CPU's name as the operating system gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None where it is not installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def blas() -> list[dict[str, Any]]:
    """The native thread pools loaded in this process (BLAS, OpenMP), as threadpoolctl sees them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "filepath")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def run_facts() -> dict[str, Any]:
    """Everything above, as one JSON-ready dict. Call it after numpy and torch are loaded,
    so their BLAS libraries show up."""
    import numpy as np
    import torch

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            "numpy": np.__version__,
            "torch": torch.__version__,
            "scikit-learn": installed_version("scikit-learn"),
            "fromscratch-conformance": installed_version("fromscratch-conformance"),
        },
        "torch_threads": torch.get_num_threads(),
        "blas": blas(),
        "cpu": {"model": cpu_model(), "cores": os.cpu_count()},
    }
