"""Download a file from a list of mirrors, verified, and placed atomically.

Each attempt streams into a temporary file in the destination directory,
checks its SHA-256, and only then renames it onto the final name with
``os.replace``. The rename is atomic within one file system, so the final name
only ever holds a complete, verified file: a crash, a timeout, or a mirror
serving the wrong bytes leaves nothing behind. Only ``urllib`` is used.
"""

import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from fromscratch.datasets.checksum import sha256_file
from fromscratch.datasets.errors import DatasetError

TIMEOUT = 30.0  # seconds per blocking network operation (connect, each read)

log = logging.getLogger(__name__)


def download(
    name: str,
    dest_dir: Path,
    *,
    sha256: str,
    mirrors: Sequence[str],
    timeout: float = TIMEOUT,
) -> Path:
    """Fetch ``<mirror>/<name>`` into ``dest_dir/name``, trying each mirror in turn.

    A mirror that fails (no connection, HTTP error, timeout, wrong SHA-256)
    is skipped; if all fail, DatasetError lists every URL tried and why.
    Returns the path of the verified file.
    """
    dest = dest_dir / name
    failures = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{name}"
        try:
            _fetch(url, dest, sha256, timeout)
        # URLError, HTTPError and timeouts are OSErrors; a malformed URL is a ValueError.
        except (OSError, ValueError, http.client.HTTPException, DatasetError) as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # an HTTPError holds the open response
            failures.append(f"  {url}: {error}")
        else:
            return dest
    tried = "\n".join(failures) or "  (the mirror list is empty)"
    raise DatasetError(f"{dest}: download failed from every mirror:\n{tried}")


def _fetch(url: str, dest: Path, sha256: str, timeout: float) -> None:
    log.info("downloading %s to %s", url, dest)
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - it must outlive the with block
        dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
    )
    tmp_path = Path(tmp.name)
    try:
        with tmp, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())  # on disk before the rename makes it visible
        actual = sha256_file(tmp_path)
        if actual != sha256:
            raise DatasetError(
                f"sha256 mismatch: expected {sha256}, found {actual} "
                f"({tmp_path.stat().st_size} bytes received)"
            )
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
