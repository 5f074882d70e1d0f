"""Tiny Shakespeare: 1,115,394 characters of Shakespeare's plays, for character models.

The text is Karpathy's char-rnn ``data/tinyshakespeare/input.txt``. The first
90% of its characters are the training text, the last 10% the validation text
(the split nanoGPT uses: ``n_train = int(0.9 * n)``, cut mid-line). Every
character is one of the 65 in ``TINY_SHAKESPEARE_CHARS``, sorted by code point,
and a character's token id is its index there: ``encode_chars`` and
``decode_chars`` go between text and int64 ids.

``load_tiny_shakespeare`` finds ``input.txt`` as ``load_mnist`` finds its files
(see ``locations``), downloads it when missing, and checks its SHA-256 on every
load (about 5 ms for its 1.1 MB).
"""

import os
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from fromscratch.datasets.errors import DatasetError
from fromscratch.datasets.find import find_or_download
from fromscratch.datasets.locations import DATA_ENV, search_dirs

TextSplit = Literal["train", "validation"]
TEXT_SPLITS: tuple[TextSplit, ...] = get_args(TextSplit)

DATASET = "tinyshakespeare"
FILE_NAME = "input.txt"
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
N_CHARS = 1_115_394
TRAIN_FRACTION = 0.9
# The 65 characters of the text, sorted: newline, space, punctuation, 3, A-Z, a-z.
TINY_SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

MIRRORS_ENV = "FROMSCRATCH_TINYSHAKESPEARE_MIRRORS"
TINY_SHAKESPEARE_MIRRORS: tuple[str, ...] = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",
)

# Code point -> token id, for the 65 characters; every other code point maps to -1.
_IDS = np.full(128, -1, dtype=np.int64)
_IDS[[ord(c) for c in TINY_SHAKESPEARE_CHARS]] = np.arange(len(TINY_SHAKESPEARE_CHARS))


def load_tiny_shakespeare(
    split: TextSplit = "train",
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> str:
    """The training (first 90%) or validation (last 10%) text of Tiny Shakespeare.

    ``input.txt`` is looked for in `root` (the directory holding it), then
    ``$FROMSCRATCH_DATA/tinyshakespeare``, then
    ``$XDG_CACHE_HOME/fromscratch/tinyshakespeare``. When it is missing and
    `download` is true it is fetched from the mirrors in
    ``$FROMSCRATCH_TINYSHAKESPEARE_MIRRORS`` (separated by spaces or commas)
    or else ``TINY_SHAKESPEARE_MIRRORS``, verified, and renamed into place.

    Returns a str of 1,003,854 ("train") or 111,540 ("validation") characters;
    ``encode_chars`` turns it into token ids. Raises ValueError for an unknown
    split and DatasetError, naming the file, when it is missing, fails its
    SHA-256 check, or holds a character outside the vocabulary.
    """
    split = _check_split(split)
    path = _locate(root, download)
    text = read_text(path)
    n_train = int(TRAIN_FRACTION * len(text))
    return text[:n_train] if split == "train" else text[n_train:]


def encode_chars(text: str) -> NDArray[np.int64]:
    """The token id of each character of `text`: its index in ``TINY_SHAKESPEARE_CHARS``.

    Raises ValueError naming the first character outside the vocabulary and its position.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ids = _IDS[np.minimum(codes, len(_IDS) - 1)]
    # Code points >= 128 were clamped onto 127 (DEL, not in the vocabulary): still -1.
    unknown = np.flatnonzero(ids < 0)
    if unknown.size:
        at = int(unknown[0])
        raise ValueError(
            f"character {text[at]!r} at position {at} is not one of the "
            f"{len(TINY_SHAKESPEARE_CHARS)} in TINY_SHAKESPEARE_CHARS"
        )
    return ids


def decode_chars(ids: NDArray[np.integer] | list[int]) -> str:
    """The text whose token ids are `ids` (the inverse of ``encode_chars``)."""
    ids = np.asarray(ids)
    n = len(TINY_SHAKESPEARE_CHARS)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be a 1-d integer array, got {ids.dtype} of shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = int(np.flatnonzero((ids < 0) | (ids >= n))[0])
        raise ValueError(f"token id {ids[bad]} at position {bad} is outside 0..{n - 1}")
    return "".join(TINY_SHAKESPEARE_CHARS[i] for i in ids.tolist())


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of a Tiny Shakespeare-like file, UTF-8, every character in the vocabulary.

    No checksum is verified here. Raises DatasetError naming the file otherwise.
    """
    path = Path(path).absolute()
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error})") from None
    try:
        encode_chars(text)
    except ValueError as error:
        raise DatasetError(f"{path}: {error}") from None
    return text


def tiny_shakespeare_mirrors() -> tuple[str, ...]:
    """Where downloads come from: ``$FROMSCRATCH_TINYSHAKESPEARE_MIRRORS`` or the default."""
    override = os.environ.get(MIRRORS_ENV, "").replace(",", " ").split()
    return tuple(override) or TINY_SHAKESPEARE_MIRRORS


def tiny_shakespeare_search_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The directories ``load_tiny_shakespeare(root=root)`` searches, first match wins."""
    return [directory for directory, _ in search_dirs(DATASET, root)]


def _check_split(split: str) -> TextSplit:
    for name in TEXT_SPLITS:
        if split == name:
            return name
    raise ValueError(f"split must be one of {TEXT_SPLITS}, got {split!r}")


def _locate(root: str | os.PathLike[str] | None, download: bool) -> Path:
    """The verified path of input.txt: the first one found, else a fresh download."""
    return find_or_download(
        DATASET,
        FILE_NAME,
        TINY_SHAKESPEARE_SHA256,
        root=root,
        download=download,
        mirrors=tiny_shakespeare_mirrors(),
        label=f"Tiny Shakespeare file {FILE_NAME}",
        how=f"Put {FILE_NAME} in a directory named {DATASET} and set {DATA_ENV} to its "
        "parent, or pass load_tiny_shakespeare(root=<the directory>)",
    )
