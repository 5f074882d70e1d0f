"""Shared fixtures: small generated MNIST-format files and a local HTTP mirror.

The real files' pinned SHA-256 would refuse generated files, so `fake_mnist`
patches the pinned sums and split sizes to match them; everything else runs
the real code paths. No test touches the network beyond 127.0.0.1.
"""

import gzip
import hashlib
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from fromscratch.datasets import mnist

N_FAKE = 5  # images per generated split


def _encode_idx(array: NDArray[np.uint8]) -> bytes:
    """The raw (uncompressed) IDX encoding of an unsigned-byte array."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.fixture
def encode_idx() -> Callable[[NDArray[np.uint8]], bytes]:
    return _encode_idx


@dataclass(frozen=True)
class FakeMnist:
    """Generated stand-ins for the four MNIST files (gzip bytes by file name)."""

    arrays: dict[str, tuple[NDArray[np.uint8], NDArray[np.uint8]]]  # split -> images, labels
    files: dict[str, bytes]

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in self.files.items():
            (directory / name).write_bytes(content)
        return directory


@pytest.fixture
def fake_mnist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeMnist:
    """Fake MNIST files that `load_mnist` accepts, in an environment of its own.

    The pinned sums and sizes are patched to the generated files, the user
    cache is moved under tmp_path, and FROMSCRATCH_DATA / the mirror override
    are unset so that the developer's own data cannot leak in.
    """
    rng = np.random.default_rng(0)
    arrays, files, sizes = {}, {}, {}
    for split, spec in mnist.MNIST_FILES.items():
        images = rng.integers(0, 256, size=(N_FAKE, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=N_FAKE, dtype=np.uint8)
        arrays[split] = (images, labels)
        files[spec.images] = gzip.compress(_encode_idx(images))
        files[spec.labels] = gzip.compress(_encode_idx(labels))
        sizes[split] = spec._replace(size=N_FAKE)
    monkeypatch.setattr(mnist, "MNIST_FILES", sizes)
    monkeypatch.setattr(
        mnist, "MNIST_SHA256", {n: hashlib.sha256(c).hexdigest() for n, c in files.items()}
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("FROMSCRATCH_DATA", raising=False)
    monkeypatch.delenv(mnist.MIRRORS_ENV, raising=False)
    return FakeMnist(arrays, files)


@dataclass
class Mirror:
    """A local HTTP server; `serve` publishes bytes under a path prefix."""

    url: str
    routes: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def serve(self, prefix: str, files: dict[str, bytes], *, truncate: bool = False) -> str:
        """Serve `files` under /prefix/ and return that mirror's base URL.

        With `truncate`, only the first half of each body is sent while the
        Content-Length promises all of it, as when a connection drops.
        """
        for name, body in files.items():
            sent = body[: len(body) // 2] if truncate else body
            self.routes[f"/{prefix}/{name}"] = (sent, len(body))
        return f"{self.url}/{prefix}/"


@pytest.fixture
def http_mirror() -> Iterator[Mirror]:
    mirror = Mirror(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mirror.requests.append(self.path)
            if self.path not in mirror.routes:
                self.send_error(404)
                return
            body, length = mirror.routes[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval makes shutdown() return quickly.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield mirror
    server.shutdown()
    server.server_close()
    thread.join()
