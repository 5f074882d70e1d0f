"""Dataset loaders for the fromscratch implementations.

``load_mnist`` and ``load_breast_cancer`` both return ``(X, y)`` for a
``Split`` ("train" or "test"); every problem with the data raises
``DatasetError`` with a message naming the file and what was expected.
"""

from fromscratch.datasets.breast_cancer import load_breast_cancer
from fromscratch.datasets.errors import DatasetError
from fromscratch.datasets.idx import read_idx
from fromscratch.datasets.mnist import (
    MNIST_FILES,
    MNIST_MIRRORS,
    MNIST_SHA256,
    load_mnist,
    mnist_search_dirs,
    read_mnist,
)
from fromscratch.datasets.splits import Split

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "DatasetError",
    "Split",
    "load_breast_cancer",
    "load_mnist",
    "mnist_search_dirs",
    "read_idx",
    "read_mnist",
]
