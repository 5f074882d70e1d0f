"""Every ordered pair: weights saved by one implementation, loaded by another or by torch,
give the same probabilities on real MNIST test rows, within the forward tolerance.

Each source trains its own MNIST recipe's architecture briefly (one epoch on the first
1,000 training images: enough to move far from the initialisation, cheap enough for CI),
and the pairs are judged on the first 500 test images.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.portability import TORCH, transfer
from fromscratch.conformance.registry import Implementation, select

Record = Callable[[Measurement], Measurement]
N_TRAIN, N_TEST = 1_000, 500


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pair" in metafunc.fixturenames:
        names = [i.name for i in select(metafunc.config.getoption("--impl"))]
        pairs = [(s, t) for s in names for t in [*names, TORCH]]
        metafunc.parametrize("pair", pairs, ids=[f"{s}->{t}" for s, t in pairs])


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    """Each implementation's briefly trained MNIST model, built on first use."""
    return {}


def source_model(name: str, cache: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    if name not in cache:
        impl: Implementation = select([name])[0]
        recipe = impl.recipes["mnist"]
        X, y = checks.load("mnist", "train")
        model = impl.factory(**recipe["model"])
        model.fit(X[:N_TRAIN], y[:N_TRAIN], **{**recipe["fit"], "epochs": 1})
        cache[name] = (model, dict(recipe["model"]))
    return cache[name]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def test_rows() -> np.ndarray:
    return checks.load("mnist", "test")[0][:N_TEST]


def test_pair(
    pair: tuple[str, str],
    trained: dict[str, Any],
    test_rows: np.ndarray,
    tmp_path: Path,
    record: Record,
):
    source, target = pair
    model, spec = source_model(source, trained)
    m = record(
        transfer(
            model,
            source,
            target,
            test_rows,
            tmp_path / "m.safetensors",
            activation=spec.get("activation", "relu"),
            loss=spec.get("loss", "cross_entropy"),
        )
    )
    assert m.details["rows"] == N_TEST
    assert m.passed, m.describe()
    print(f"\n{m.case}: worst ratio {m.value:.3g}, max |dp| {m.details['max_abs_difference']:.3g}")


def test_a_wrong_transfer_fails(tmp_path: Path, test_rows: np.ndarray):
    """The check can fail: a model whose probabilities drift by 1e-4 is caught."""
    name = select(None)[0].name
    impl = select([name])[0]
    model = impl.build(
        [784, 16, 10], activation="relu", loss="cross_entropy", seed=0, dtype="float32"
    )

    class Drifting:
        def state_dict(self) -> Any:
            return model.state_dict()

        def predict_proba(self, X: Any) -> Any:
            p = model.predict_proba(X)
            return p + 1e-4 * np.eye(10, dtype=p.dtype)[np.zeros(len(X), dtype=int)]

        def predict(self, X: Any) -> Any:
            return model.predict(X)

    m = transfer(
        Drifting(),
        name,
        TORCH,
        test_rows,
        tmp_path / "w.safetensors",
        activation="relu",
        loss="cross_entropy",
    )
    assert not m.passed
    assert m.value is not None
    assert m.value > 1
