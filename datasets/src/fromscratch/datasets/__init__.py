"""Dataset loaders for the fromscratch implementations.

``load_mnist`` and ``load_breast_cancer`` both return ``(X, y)`` for a
``Split`` ("train" or "test"); ``load_tiny_shakespeare`` returns the "train" or
"validation" text, which ``encode_chars`` turns into token ids. Every problem
with the data raises ``DatasetError`` with a message naming the file and what
was expected.
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
from fromscratch.datasets.tiny_shakespeare import (
    TINY_SHAKESPEARE_CHARS,
    TINY_SHAKESPEARE_MIRRORS,
    TINY_SHAKESPEARE_SHA256,
    TextSplit,
    decode_chars,
    encode_chars,
    load_tiny_shakespeare,
    tiny_shakespeare_search_dirs,
)

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "TINY_SHAKESPEARE_CHARS",
    "TINY_SHAKESPEARE_MIRRORS",
    "TINY_SHAKESPEARE_SHA256",
    "DatasetError",
    "Split",
    "TextSplit",
    "decode_chars",
    "encode_chars",
    "load_breast_cancer",
    "load_mnist",
    "load_tiny_shakespeare",
    "mnist_search_dirs",
    "read_idx",
    "read_mnist",
    "tiny_shakespeare_search_dirs",
]
