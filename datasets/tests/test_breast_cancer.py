"""load_breast_cancer: a stratified, seeded split, standardized with training statistics."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer

from fromscratch.datasets import load_breast_cancer

MALIGNANT_FRACTION = float(np.mean(sklearn_breast_cancer().target == 0))  # 212 / 569


def test_shapes_and_dtypes() -> None:
    X_train, y_train = load_breast_cancer("train")
    X_test, y_test = load_breast_cancer("test")
    assert X_train.shape == (455, 30)
    assert y_train.shape == (455,)
    assert X_test.shape == (114, 30)
    assert y_test.shape == (114,)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == {0, 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("split", ["train", "test"])
def test_split_is_stratified(seed: int, split: str) -> None:
    _, y = load_breast_cancer(split, seed=seed)  # type: ignore[arg-type]
    assert abs(np.mean(y == 0) - MALIGNANT_FRACTION) < 0.01


def test_standardized_with_training_statistics() -> None:
    X_train, _ = load_breast_cancer("train")
    X_test, _ = load_breast_cancer("test")
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1, rtol=1e-12)
    # The test split was shifted and scaled by the training statistics, not its own.
    assert np.all(np.abs(X_test.mean(axis=0)) > 1e-6)
    assert np.all(np.abs(X_test.std(axis=0) - 1) > 1e-6)
    # ...which are nonetheless close, since both splits come from one distribution.
    np.testing.assert_allclose(X_test.mean(axis=0), 0, atol=0.5)


def test_train_and_test_partition_the_data() -> None:
    X_train, _ = load_breast_cancer("train", seed=3)
    X_test, _ = load_breast_cancer("test", seed=3)
    rows = {row.tobytes() for row in np.vstack([X_train, X_test])}
    assert len(rows) == 569


def test_same_seed_same_arrays_other_seed_other_split() -> None:
    X0, y0 = load_breast_cancer(seed=0)
    X0_again, y0_again = load_breast_cancer(seed=0)
    X1, _ = load_breast_cancer(seed=1)
    np.testing.assert_array_equal(X0, X0_again)
    np.testing.assert_array_equal(y0, y0_again)
    assert X0.shape == X1.shape
    assert not np.array_equal(X0, X1)


def test_test_size_sets_the_split_sizes() -> None:
    assert load_breast_cancer("test", test_size=0.5)[0].shape == (285, 30)


@pytest.mark.parametrize("test_size", [0, 1, -0.1, 1.5])
def test_test_size_outside_zero_one_is_refused(test_size: float) -> None:
    with pytest.raises(
        ValueError, match=rf"test_size must be a fraction in \(0, 1\), got {test_size}"
    ):
        load_breast_cancer(test_size=test_size)


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\), got 'valid'"):
        load_breast_cancer("valid")  # type: ignore[arg-type]
