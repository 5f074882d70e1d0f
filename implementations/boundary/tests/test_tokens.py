"""check_tokens and sample: the plumbing every sequence model shares."""

from __future__ import annotations

import numpy as np
import pytest

from fromscratch.boundary.tokens import check_tokens, sample


def test_check_tokens_accepts_ids_and_names_the_first_bad_entry() -> None:
    X = check_tokens(np.array([[0, 4], [2, 1]], dtype=np.uint8), 5)
    assert X.dtype == np.int64
    with pytest.raises(
        ValueError, match=r"X\[1, 0\] = 5 is not a token id: expected ids in \[0, 5\)"
    ):
        check_tokens([[0, 4], [5, -1]], 5)
    with pytest.raises(ValueError, match="y has dtype float64: expected integer token ids"):
        check_tokens(np.zeros((2, 2)), 5, name="y")
    with pytest.raises(ValueError, match=r"has shape \(3,\): expected \(n, T\)"):
        check_tokens([1, 2, 3], 5)
    with pytest.raises(ValueError, match=r"y has shape \(2, 1\): expected X's shape \(2, 2\)"):
        check_tokens([[1], [2]], 5, name="y", shape=(2, 2))


def test_sample_follows_the_logits_and_the_seed() -> None:
    seen: list[list[int]] = []

    def last_logits(window: np.ndarray) -> np.ndarray:
        seen.append(window[0].tolist())
        z = np.zeros(4)
        z[(window[0, -1] + 1) % 4] = 50.0  # next token: the last one plus 1, nearly surely
        return z

    drawn = sample(last_logits, [2], 5, temperature=1.0, context=2)
    assert drawn.tolist() == [3, 0, 1, 2, 3]
    assert seen[:3] == [[2], [2, 3], [3, 0]]  # at most `context` tokens are read
    flat = sample(lambda w: np.zeros(4), [0], 200, seed=1)
    assert set(flat.tolist()) == {0, 1, 2, 3}
    assert np.array_equal(flat, sample(lambda w: np.zeros(4), [0], 200, seed=1))
    with pytest.raises(ValueError, match="temperature must be positive"):
        sample(last_logits, [0], 1, temperature=0.0)
