"""Networks written as architecture specs: convolution and pooling, held to torch.

Each test runs through the protocol (``gradients``, ``predict_proba``, ``fit``,
``state_dict``) on models built from spec strings. An implementation whose
``supported_layers`` leave out a layer a case uses is "not applicable" there: the test is
skipped with the reason, and never counted as a pass.

CI (``nox -s tests``) runs a documented subset of the convolution grid, every kernel size,
stride, padding, channel count and pooling at least once (:data:`CI_GRID`); the other grid
cases are marked ``slow`` and run in ``nox -s <impl>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from fromscratch.conformance import checks, reference
from fromscratch.conformance.checks import Case, Measurement
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.tolerances import RECIPE_SUBSETS, RECIPE_THRESHOLDS, Dataset

Record = Callable[[Measurement], Measurement]


def _applies(impl: Implementation, layers: Sequence[int | str]) -> None:
    reason = checks.unsupported(impl, layers)
    if reason is not None:
        pytest.skip(f"not applicable: {reason}")


GRID = checks.conv_grid_cases()
CI_CONVS = {
    *(("1x9x7", conv) for conv in ("k1s1p0", "k3s2p1", "k5s1p2")),
    *(("3x7x11", conv) for conv in ("k1s2p2", "k3s1p0", "k5s2p1")),
}
"""One diagonal through the grid: each kernel size, stride, padding and channel count at
least once, each with both poolings: 12 of the 72 cases."""
CI_GRID = frozenset(case.id for case in GRID if tuple(case.name.split("-")[:2]) in CI_CONVS)


def _grid_param(case: Case) -> object:
    marks = () if case.id in CI_GRID else (pytest.mark.slow,)
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_grid_param(c) for c in GRID])
def test_conv_grid_gradients_match_torch(
    differentiable_impl: Implementation, case: Case, record: Record
):
    _applies(differentiable_impl, case.layers)
    m = record(checks.gradient_vs_torch(differentiable_impl, case))
    assert m.passed, m.describe()


@pytest.mark.parametrize("case", [*checks.cnn_cases(), checks.digits_case()], ids=lambda c: c.id)
def test_cnn_gradients_match_torch(differentiable_impl: Implementation, case: Case, record: Record):
    _applies(differentiable_impl, case.layers)
    m = record(checks.gradient_vs_torch(differentiable_impl, case))
    assert m.passed, m.describe()


@pytest.mark.parametrize("case", checks.cnn_central_difference_cases(), ids=lambda c: c.id)
def test_cnn_gradients_match_central_differences(
    differentiable_impl: Implementation, case: Case, record: Record
):
    _applies(differentiable_impl, case.layers)
    m = record(checks.central_difference(differentiable_impl, case))
    assert m.passed, m.describe()


def test_max_pool_ties_follow_torch(differentiable_impl: Implementation, record: Record):
    _applies(differentiable_impl, checks.MAXPOOL_TIE_CASE.layers)
    m = record(checks.maxpool_tie(differentiable_impl))
    assert m.details["ties"] > 0
    assert m.passed, m.describe()


def test_cnn_training_matches_torch_step_for_step(
    differentiable_impl: Implementation, record: Record
):
    case = checks.cnn_training_case()
    _applies(differentiable_impl, case.net.layers)
    m = record(checks.training_vs_torch(differentiable_impl, case))
    assert m.passed, m.describe()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "case", [checks.cnn_cases()[-1], checks.digits_case(17)], ids=lambda c: c.id
)
def test_cnn_forward_matches_torch(impl: Implementation, case: Case, dtype: str, record: Record):
    _applies(impl, case.layers)
    m = record(checks.forward_vs_torch(impl, case, dtype))
    assert m.passed, m.describe()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lenet_state_dict_has_torch_layout(impl: Implementation, dtype: str, record: Record):
    _applies(impl, checks.LENET_SPEC)
    m = record(checks.state_dict_layout(impl, dtype, checks.LENET_SPEC))
    assert m.passed, m.describe()


def test_an_unsupported_layer_is_refused_at_construction(impl: Implementation, record: Record):
    if checks.supported_layers(impl) >= reference.SPEC_LAYERS.keys():
        pytest.skip(f"not applicable: {impl.name} builds every layer a spec may name")
    m = record(checks.unsupported_spec(impl))
    assert m.passed, m.describe()


# ------------------------------------------------------------------- the suite itself


def test_the_grid_covers_every_axis_the_issue_names():
    axes = {"k1", "k3", "k5", "s1", "s2", "p0", "p1", "p2", "1x", "3x", "max", "avg"}
    for cases in (GRID, [c for c in GRID if c.id in CI_GRID]):
        names = " ".join(c.name for c in cases)
        assert all(axis in names for axis in axes), sorted(a for a in axes if a not in names)
    assert len(GRID) == 72
    assert len(CI_GRID) == 12
    # odd image sizes: every grid image has an odd height or width
    assert all(any(int(d) % 2 for d in c.name.split("-")[0].split("x")[1:]) for c in GRID)


def test_the_reference_builds_torch_from_the_spec_alone():
    net = reference.sequential(list(checks.LENET_SPEC))
    assert [type(m).__name__ for m in net] == [
        "Unflatten",
        *("Conv2d", "ReLU", "MaxPool2d", "Conv2d"),
        *("Flatten", "Linear"),
    ]
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["1.weight"] == (6, 1, 5, 5)
    assert shapes["4.weight"] == (16, 6, 5, 5)
    assert reference.widths(list(checks.LENET_SPEC)) == (784, 3)


@pytest.mark.parametrize(
    "text", ["os.system('x')", "Conv2d(1, 2, k)", "LSTMCell(3, 4)", "Linear(*[3, 4])"]
)
def test_the_reference_refuses_what_is_not_a_literal_whitelisted_call(text: str):
    with pytest.raises((ValueError, TypeError)):
        reference.layer(text)


def test_not_applicable_says_why_and_is_never_a_pass():
    class MlpOnly:
        """A model class with no ``supported_layers``: it builds the MLP shorthand only."""

    impl = Implementation("mlp-only", MlpOnly, {})  # type: ignore[arg-type]
    rows = [r for r in checks.not_applicable(impl) if not r["check"].startswith("accuracy")]
    assert rows
    assert all("declares no supported_layers" in r["reason"] for r in rows)
    assert all("Conv2d" in r["reason"] for r in rows)
    recipes = [r for r in checks.not_applicable(impl) if r["check"] == "accuracy[mnist_cnn]"]
    assert recipes[0]["reason"] == "mlp-only has no RECIPES['mnist_cnn']"
    assert not [c for c in checks.spec_checks(impl) if checks.unsupported(impl, c[1]) is None]


# ------------------------------------------------------------------- CNN recipes


def _recipe(impl: Implementation, recipe: str, request: pytest.FixtureRequest) -> Dataset:
    dataset, _ = RECIPE_THRESHOLDS[recipe]
    chosen = request.config.getoption("--dataset")
    if chosen and dataset not in chosen:
        pytest.skip(f"left out by --dataset {' --dataset '.join(chosen)}")
    if recipe not in impl.recipes:
        pytest.skip(f"not applicable: {impl.name} has no RECIPES[{recipe!r}]")
    return dataset


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(RECIPE_THRESHOLDS))
def test_cnn_recipe_reaches_its_accuracy(
    differentiable_impl: Implementation, recipe: str, record: Record, request: pytest.FixtureRequest
):
    dataset = _recipe(differentiable_impl, recipe, request)
    m = record(checks.accuracy(differentiable_impl, dataset, recipe=recipe))
    assert m.passed, m.describe()


@pytest.mark.subset
@pytest.mark.parametrize("recipe", sorted(RECIPE_SUBSETS))
def test_cnn_recipe_on_the_ci_subset(
    differentiable_impl: Implementation, recipe: str, record: Record, request: pytest.FixtureRequest
):
    dataset = _recipe(differentiable_impl, recipe, request)
    m = record(checks.accuracy(differentiable_impl, dataset, subset=True, recipe=recipe))
    assert m.details["n_train"] == RECIPE_SUBSETS[recipe].n_train
    assert m.passed, m.describe()


def test_the_verdict_shows_not_applicable_with_the_reason():
    from fromscratch.conformance import sections
    from fromscratch.conformance.document import Table

    summary = [
        {"implementation": "a", "check": "gradient_vs_torch", "cases": 2, "failed": 0,
         "worst": 0.5, "bound": 1.0, "higher_is_better": False},
        {"implementation": "b", "check": "gradient_vs_torch", "cases": 2, "failed": 0,
         "worst": 0.25, "bound": 1.0, "higher_is_better": False},
    ]  # fmt: skip
    why = "b does not build Conv2d: its supported_layers are Linear, ReLU"
    results = {
        "summary": summary,
        "implementations": [{"name": "a"}, {"name": "b"}],
        "not_applicable": [
            {"implementation": "b", "check": "gradient_vs_torch", "cases": 80, "reason": why},
            {"implementation": "b", "check": "maxpool_tie", "cases": 1, "reason": why},
        ],
    }
    blocks = sections.verdict(results)
    tables = [b for b in blocks if isinstance(b, Table)]
    rows = {row[0].text: row for row in tables[0].rows}
    assert rows["gradient_vs_torch"][2].text == "pass 0.25x (80 n/a)"
    assert why in rows["gradient_vs_torch"][2].title
    assert rows["maxpool_tie"][2].text == "n/a"
    assert rows["maxpool_tie"][2].title == why
    assert rows["maxpool_tie"][1].text == "n/a"  # a has no row and no reason: "does not apply"
    listed = [[c.text for c in row] for row in tables[1].rows]
    assert ["b", "maxpool_tie", "1", why] in listed
    text = " ".join(getattr(b, "text", "") for b in blocks)
    assert "2 implementations, 4 measured cases" in text  # n/a cases are not counted


# ------------------------------------------------------------------- portable weights

PORTABLE_TARGETS = ("matrix", "autograd", "torch")


@pytest.mark.parametrize("target", PORTABLE_TARGETS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cnn_weights_move_between_implementations_and_torch(
    impl: Implementation, target: str, dtype: str, tmp_path: Path, record: Record
):
    """A CNN saved by one implementation gives the same probabilities on real 8x8 digits
    in another one and in torch (``weights.save(..., layers=spec)``)."""
    from fromscratch.conformance import registry
    from fromscratch.conformance.portability import transfer

    _applies(impl, checks.DIGITS_NET)
    if target != "torch":
        other = registry.discover().get(target)
        if other is None:
            pytest.skip(f"{target} is not installed")
        _applies(other, checks.DIGITS_NET)
    case = checks.digits_case(64)
    X, _ = case.batch()
    model = impl.build(list(case.layers), loss="cross_entropy", seed=3, dtype=dtype)
    m = record(
        transfer(
            model,
            impl.name,
            target,
            X,
            tmp_path / "cnn.safetensors",
            activation="relu",
            loss="cross_entropy",
            layers=list(case.layers),
        )
    )
    assert m.passed, m.describe()


def test_cnn_weights_say_which_layers_they_need(tmp_path: Path):
    import numpy as np

    from fromscratch.conformance import reference, weights

    torch_model = reference.sequential(list(checks.DIGITS_NET))
    state = {k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()}

    class Saved:
        def state_dict(self) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
            return state

    path = weights.save(
        Saved(), tmp_path / "cnn.safetensors", activation="relu", loss="cross_entropy",
        implementation="torch", layers=list(checks.DIGITS_NET),
    )  # fmt: skip
    saved = weights.read_weights(path)
    assert saved.architecture.layers == list(checks.DIGITS_NET)
    assert set(saved.tensors) == set(state)
    with pytest.raises(ValueError, match="not that of layers"):
        weights.save(
            Saved(), tmp_path / "x.safetensors", activation="relu", loss="cross_entropy",
            implementation="torch", layers=list(checks.LENET_SPEC),
        )  # fmt: skip
