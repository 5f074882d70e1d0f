"""Where dataset files are looked for, and where downloads go.

For a dataset called ``mnist`` the directories searched, in order, are:

1. ``root``, when the caller passes one: the directory holding the files;
2. ``$FROMSCRATCH_DATA/mnist``: a shared, possibly read-only, data directory;
3. ``$XDG_CACHE_HOME/fromscratch/mnist`` (default ``~/.cache/fromscratch/mnist``).

A file found in an earlier directory wins. Downloads never go into
``$FROMSCRATCH_DATA``, which is often read-only and shared between users: they
go into ``root`` when given (and writable), else into the user cache.
"""

import os
from pathlib import Path

from fromscratch.datasets.errors import DatasetError

DATA_ENV = "FROMSCRATCH_DATA"


def cache_dir(dataset: str) -> Path:
    """The per-user cache directory for `dataset`; it need not exist yet."""
    # The XDG spec says an empty or relative XDG_CACHE_HOME is to be ignored.
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "fromscratch" / dataset


def search_dirs(dataset: str, root: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """The directories searched for `dataset`, in order, each with where it came from."""
    dirs = []
    if root is not None:
        dirs.append((_directory(root), "root= argument"))
    if data := os.environ.get(DATA_ENV):
        dirs.append((_directory(data) / dataset, f"${DATA_ENV}/{dataset}"))
    dirs.append((cache_dir(dataset), "user cache"))
    return dirs


def download_dir(dataset: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The first writable (and, if need be, newly created) directory to download into."""
    candidates = [cache_dir(dataset)]
    if root is not None:
        candidates.insert(0, _directory(root))
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise DatasetError(
        f"no writable directory to download {dataset} into; tried "
        + ", ".join(map(str, candidates))
    )


def _directory(path: str | os.PathLike[str]) -> Path:
    """`path` made absolute, with a leading ~ expanded, so that messages show where it is."""
    return Path(path).expanduser().absolute()
