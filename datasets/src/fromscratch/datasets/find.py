"""A dataset file, verified: the first copy found in the search directories, else a
fresh download. Each loader says what the file is and how to provide it by hand."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fromscratch.datasets.checksum import verify_sha256
from fromscratch.datasets.download import download as download_file
from fromscratch.datasets.errors import DatasetError
from fromscratch.datasets.locations import DATA_ENV, download_dir, search_dirs


def find_or_download(
    dataset: str,
    name: str,
    sha256: str,
    *,
    root: str | os.PathLike[str] | None,
    download: bool,
    mirrors: Sequence[str],
    label: str,
    how: str,
) -> Path:
    """The verified path of file ``name`` of ``dataset``; a download when allowed and no
    copy is found. ``label`` names the file in the error ("MNIST file x"), ``how`` says how
    to provide it ("Put ... or pass load_x(root=<the directory>)")."""
    dirs = search_dirs(dataset, root)
    for directory, _ in dirs:
        if (path := directory / name).is_file():
            verify_sha256(path, sha256)
            return path
    searched = "\n".join(f"  {directory}  ({origin})" for directory, origin in dirs)
    if not os.environ.get(DATA_ENV):
        searched += f"\n  (${DATA_ENV} is not set)"
    not_found = f"{label} not found. Searched, in order:\n{searched}\n{how}" + (
        "." if download else ", or allow download=True."
    )
    if not download:
        raise DatasetError(not_found)
    try:
        return download_file(name, download_dir(dataset, root), sha256=sha256, mirrors=mirrors)
    except DatasetError as error:
        raise DatasetError(f"{error}\n{not_found}") from None
