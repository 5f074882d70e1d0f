"""The genuine MNIST files, from $FROMSCRATCH_DATA/mnist (CI always sets it).

Skipped, with the reason, when that directory does not hold the four files;
nothing is ever downloaded here.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from fromscratch.datasets import MNIST_SHA256, Split, load_mnist
from fromscratch.datasets.checksum import sha256_file

DATA = os.environ.get("FROMSCRATCH_DATA", "")
MNIST_DIR = Path(DATA, "mnist")
if not DATA or not all((MNIST_DIR / name).is_file() for name in MNIST_SHA256):
    pytest.skip(
        "the real MNIST files are not available: set FROMSCRATCH_DATA to a directory "
        "whose mnist/ subfolder holds the four .gz files",
        allow_module_level=True,
    )

# Known facts about MNIST: how many of each digit 0..9 each split holds, and its first label.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_pinned_sums_match_the_files() -> None:
    for name, expected in MNIST_SHA256.items():
        assert sha256_file(MNIST_DIR / name) == expected, name


@pytest.mark.parametrize(
    ("split", "n", "counts", "first"),
    [("train", 60_000, TRAIN_COUNTS, 5), ("test", 10_000, TEST_COUNTS, 7)],
)
def test_shapes_dtypes_range_and_labels(
    split: Split, n: int, counts: list[int], first: int
) -> None:
    X, y = load_mnist(split, download=False)
    assert X.shape == (n, 784)
    assert y.shape == (n,)
    assert X.dtype == np.float32
    assert y.dtype == np.int64
    assert X.min() == 0.0
    assert X.max() == 1.0
    # Among them: train holds 6742 ones and 5421 fives, test 1135 ones.
    assert np.bincount(y).tolist() == counts
    assert y[0] == first
