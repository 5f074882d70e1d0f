"""MNIST: 70,000 handwritten digits, 28x28 grayscale, in the published IDX files.

``load_mnist`` finds the four files (see ``locations`` for where it looks),
downloads any that are missing, checks each against the SHA-256 pinned below,
and parses them with ``read_mnist``. Hashing, decompressing and scaling the
training set takes about 0.2 s (under 1 s in a fresh process), so no parsed
copy is cached: the published files are the only thing stored.
"""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from fromscratch.datasets.errors import DatasetError
from fromscratch.datasets.find import find_or_download
from fromscratch.datasets.idx import read_idx
from fromscratch.datasets.locations import DATA_ENV, search_dirs
from fromscratch.datasets.splits import Split, check_split

MIRRORS_ENV = "FROMSCRATCH_MNIST_MIRRORS"
# Tried in order. yann.lecun.com is the original home, but it now often refuses
# downloads, so it comes last.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


class MnistFiles(NamedTuple):
    """The two files of one split and how many examples they hold."""

    images: str
    labels: str
    size: int


MNIST_FILES: dict[Split, MnistFiles] = {
    "train": MnistFiles("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": MnistFiles("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
# The SHA-256 of the published files, in `sha256sum` format; anything else is refused.
_SHA256SUMS = """
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz
"""
MNIST_SHA256: dict[str, str] = {
    name: digest for digest, name in map(str.split, _SHA256SUMS.strip().splitlines())
}
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10


def load_mnist(
    split: Split = "train",
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Load one MNIST split as ``(X, y)``.

    X is float32 of shape (n, 784): each image flattened row by row and scaled
    from 0..255 to [0, 1] by dividing by 255 (as torchvision's ToTensor does).
    y is int64 of shape (n,), the digits 0..9. n is 60,000 for "train" and
    10,000 for "test".

    Files are looked for in `root` (the directory holding them), then
    ``$FROMSCRATCH_DATA/mnist``, then ``$XDG_CACHE_HOME/fromscratch/mnist``.
    A missing file is downloaded, if `download` is true, into `root` or else
    the user cache, from the mirrors in ``$FROMSCRATCH_MNIST_MIRRORS``
    (separated by spaces or commas) or else ``MNIST_MIRRORS``.

    Raises ValueError for an unknown split and DatasetError when a file is
    missing, fails its SHA-256 check, or does not parse.
    """
    files = MNIST_FILES[check_split(split)]
    images = _locate(files.images, root, download)
    labels = _locate(files.labels, root, download)
    return read_mnist(images, labels, count=files.size)


def read_mnist(
    images: str | os.PathLike[str],
    labels: str | os.PathLike[str],
    *,
    count: int | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Parse a pair of MNIST-format IDX files (gzip or raw) into ``(X, y)``.

    Returns arrays as described in ``load_mnist``. Nothing is verified
    against a checksum here, so this also reads look-alikes such as
    Fashion-MNIST. Raises DatasetError, naming the file, unless the images are
    28x28, every label is in 0..9, there is one label per image and, when
    `count` is given, exactly `count` of each.
    """
    images_path, labels_path = Path(images).absolute(), Path(labels).absolute()
    pixels = read_idx(images_path, ndim=3)
    digits = read_idx(labels_path, ndim=1)

    if pixels.shape[1:] != IMAGE_SHAPE:
        raise DatasetError(
            f"{images_path}: images are {pixels.shape[1]}x{pixels.shape[2]}, expected 28x28"
        )
    out_of_range = np.flatnonzero(digits >= N_CLASSES)
    if out_of_range.size:
        first = out_of_range[0]
        raise DatasetError(
            f"{labels_path}: label {digits[first]} at index {first} is out of range, "
            f"expected a digit 0..{N_CLASSES - 1}"
        )
    if len(pixels) != len(digits):
        raise DatasetError(
            f"{images_path} holds {len(pixels)} images but {labels_path} holds "
            f"{len(digits)} labels; expected one label per image"
        )
    if count is not None and len(pixels) != count:
        raise DatasetError(f"{images_path}: {len(pixels)} images, expected {count}")

    X = np.divide(pixels.reshape(len(pixels), -1), np.float32(255), dtype=np.float32)
    return X, digits.astype(np.int64)


def mnist_search_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The directories ``load_mnist(root=root)`` searches, first match wins."""
    return [directory for directory, _ in search_dirs("mnist", root)]


def mnist_mirrors() -> tuple[str, ...]:
    """The mirrors downloads are tried from: ``$FROMSCRATCH_MNIST_MIRRORS`` or ``MNIST_MIRRORS``."""
    override = os.environ.get(MIRRORS_ENV, "").replace(",", " ").split()
    return tuple(override) or MNIST_MIRRORS


def _locate(name: str, root: str | os.PathLike[str] | None, download: bool) -> Path:
    """The verified path of file `name`: the first one found, else a fresh download."""
    return find_or_download(
        "mnist",
        name,
        MNIST_SHA256[name],
        root=root,
        download=download,
        mirrors=mnist_mirrors(),
        label=f"MNIST file {name}",
        how=f"Put the four files ({', '.join(MNIST_SHA256)}) in a directory named mnist "
        f"and set {DATA_ENV} to its parent, or pass load_mnist(root=<the directory>)",
    )
