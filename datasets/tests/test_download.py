"""download(): mirrors tried in turn, every file verified, nothing partial ever left behind.

`http_mirror` (see conftest) is a real HTTP server on 127.0.0.1.
"""

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest

from fromscratch.datasets import DatasetError, download

NAME = "train-labels-idx1-ubyte.gz"
BODY = b"pretend this is a gzip file" * 100
SHA256 = hashlib.sha256(BODY).hexdigest()


def closed_port_url() -> str:
    """A URL on a port that nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_verifies_and_renames_atomically(
    http_mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy_replace(src: str | Path, dst: str | Path) -> None:
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(download.os, "replace", spy_replace)
    good = http_mirror.serve("good", {NAME: BODY})

    path = download.download(NAME, tmp_path, sha256=SHA256, mirrors=[good])

    assert path == tmp_path / NAME
    assert path.read_bytes() == BODY
    assert list(tmp_path.iterdir()) == [path]  # no temp file left over
    # The file appears by a rename from the same directory, so it is atomic.
    [(src, dst)] = renames
    assert src.parent == tmp_path
    assert dst == path


@pytest.mark.parametrize("failure", ["missing", "corrupt", "truncated", "closed-port"])
def test_a_failing_mirror_is_skipped(http_mirror, tmp_path: Path, failure: str) -> None:
    bad = {
        "missing": http_mirror.serve("empty", {}),
        "corrupt": http_mirror.serve("corrupt", {NAME: BODY.upper()}),
        "truncated": http_mirror.serve("truncated", {NAME: BODY}, truncate=True),
        "closed-port": closed_port_url(),
    }[failure]
    good = http_mirror.serve("good", {NAME: BODY})

    path = download.download(NAME, tmp_path, sha256=SHA256, mirrors=[bad, good])

    assert path.read_bytes() == BODY
    assert list(tmp_path.iterdir()) == [path]
    assert http_mirror.requests[-1] == f"/good/{NAME}"


def test_every_mirror_failing_lists_each_and_leaves_nothing(http_mirror, tmp_path: Path) -> None:
    mirrors = [
        http_mirror.serve("empty", {}),
        http_mirror.serve("corrupt", {NAME: BODY.upper()}),
        http_mirror.serve("truncated", {NAME: BODY}, truncate=True),
        closed_port_url(),
    ]
    with pytest.raises(DatasetError) as error:
        download.download(NAME, tmp_path, sha256=SHA256, mirrors=mirrors)

    message = str(error.value)
    assert message.startswith(f"{tmp_path / NAME}: download failed from every mirror")
    for mirror in mirrors:
        assert f"{mirror}{NAME}: " in message
    assert "HTTP Error 404" in message
    assert f"sha256 mismatch: expected {SHA256}, found " in message
    assert f"({len(BODY) // 2} bytes received)" in message
    assert "Connection refused" in message
    assert list(tmp_path.iterdir()) == []


def test_no_mirrors_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"every mirror:\n  \(the mirror list is empty\)"):
        download.download(NAME, tmp_path, sha256=SHA256, mirrors=[])


def test_a_silent_mirror_times_out(tmp_path: Path) -> None:
    # The kernel accepts the connection (listen backlog) but no reply ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.perf_counter()
        with pytest.raises(DatasetError, match="timed out"):
            download.download(NAME, tmp_path, sha256=SHA256, mirrors=[url], timeout=0.2)
    assert time.perf_counter() - start < 5
    assert list(tmp_path.iterdir()) == []
