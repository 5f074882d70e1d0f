"""The Wisconsin breast-cancer data: 569 tumours, 30 features, benign or malignant.

The data ships inside scikit-learn, so no download is needed. It is split
into train and test with stratification (both keep the 63/37 class ratio) and
standardized with the training split's statistics only: using the test split's
mean and std would leak information about it into training.
"""

import numpy as np
from numpy.typing import NDArray

from fromscratch.datasets.splits import Split, check_split


def load_breast_cancer(
    split: Split = "train", *, seed: int = 0, test_size: float = 0.2
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Load one split of the breast-cancer data as ``(X, y)``.

    X is float64 of shape (n, 30), standardized per feature with the mean and
    standard deviation of the training split (so the training split has mean 0
    and std 1, the test split only approximately). y is int64 of shape (n,):
    0 = malignant, 1 = benign, as in scikit-learn. With the default
    ``test_size=0.2``, n is 455 for "train" and 114 for "test".

    `seed` fixes the split: the same seed always gives the same arrays, and
    "train" and "test" with the same seed and `test_size` are disjoint.
    Raises ValueError for an unknown split or a `test_size` outside (0, 1).
    """
    check_split(split)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")

    # Imported here, not at the top: scikit-learn takes ~0.7 s to import, which
    # every `import fromscratch.datasets` (MNIST users too) would otherwise pay.
    from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer
    from sklearn.model_selection import train_test_split

    data = sklearn_breast_cancer()
    X = np.asarray(data.data, dtype=np.float64)
    y = np.asarray(data.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    X_split, y_split = (X_train, y_train) if split == "train" else (X_test, y_test)
    return np.asarray((X_split - mean) / std, dtype=np.float64), np.asarray(y_split)
