"""The two splits every loader serves, and the check that a name is one of them."""

from typing import Literal, get_args

Split = Literal["train", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)


def check_split(split: str) -> Split:
    """Return `split` unchanged if it names a split, else raise ValueError.

    The type hint alone does not stop a caller from passing "training" or
    "val" at run time, so every loader calls this first.
    """
    for name in SPLITS:
        if split == name:
            return name
    raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
