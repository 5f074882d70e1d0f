"""The genuine Tiny Shakespeare text, from $FROMSCRATCH_DATA/tinyshakespeare (CI sets it).

Skipped, with the reason, when that file is not there; nothing is downloaded here.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from fromscratch.datasets import (
    TINY_SHAKESPEARE_CHARS,
    TINY_SHAKESPEARE_SHA256,
    encode_chars,
    load_tiny_shakespeare,
)
from fromscratch.datasets.checksum import sha256_file

DATA = os.environ.get("FROMSCRATCH_DATA", "")
TEXT = Path(DATA, "tinyshakespeare", "input.txt")
if not DATA or not TEXT.is_file():
    pytest.skip(
        "the real Tiny Shakespeare text is not available: set FROMSCRATCH_DATA to a "
        "directory whose tinyshakespeare/ subfolder holds input.txt",
        allow_module_level=True,
    )


def test_pinned_sum_matches_the_file() -> None:
    assert sha256_file(TEXT) == TINY_SHAKESPEARE_SHA256


def test_split_sizes_vocabulary_and_known_text() -> None:
    train = load_tiny_shakespeare("train", download=False)
    validation = load_tiny_shakespeare("validation", download=False)
    assert len(train) == 1_003_854
    assert len(validation) == 111_540
    assert len(train) + len(validation) == 1_115_394
    assert train.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    # The whole text uses exactly the 65 characters of the vocabulary.
    assert "".join(sorted(set(train + validation))) == TINY_SHAKESPEARE_CHARS
    assert np.bincount(encode_chars(train), minlength=65).min() > 0
