"""The registry, the tolerance arithmetic, the report table and its JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from fromscratch.conformance import cli
from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import RegistryError, discover, select
from fromscratch.conformance.report import format_table, summarize, write_json
from fromscratch.conformance.tolerances import (
    ACCURACY_THRESHOLDS,
    SLOW_ACCURACY,
    SUBSETS,
    TOLERANCES,
    Tolerance,
    es_cosine_threshold,
)


def test_tolerance_is_allclose_and_reports_the_margin():
    tol = Tolerance(rtol=1e-7, atol=1e-10)
    ref = np.array([1.0, -2.0, 0.0])
    assert tol.worst(ref, ref) == 0.0
    at_edge = ref + np.array([1e-7 + 1e-10, 0.0, 0.0])
    assert tol.worst(at_edge, ref) == pytest.approx(1.0)
    assert tol.worst(ref + np.array([0, 0, 5e-11]), ref) == pytest.approx(0.5)
    assert tol.worst(np.array([np.nan, 0, 0]), ref) == math.inf
    with pytest.raises(ValueError, match="shape"):
        tol.worst(ref[:2], ref)


def test_bounds_are_those_the_project_promises():
    assert TOLERANCES["gradient_vs_torch"] == Tolerance(rtol=1e-7, atol=1e-10)
    assert ACCURACY_THRESHOLDS["gradient"] == {"mnist": 0.975, "breast_cancer": 0.95}


def test_every_slow_check_has_a_smaller_ci_stand_in_with_a_lower_bar():
    full_train = {"mnist": 60_000, "breast_cancer": 455}
    for datasets in SLOW_ACCURACY.values():
        for dataset in datasets:
            subset = SUBSETS[dataset]
            assert 0 < subset.n_train < full_train[dataset]
            assert subset.thresholds.keys() == ACCURACY_THRESHOLDS.keys()
            for training, bar in subset.thresholds.items():
                assert 0.5 < bar < ACCURACY_THRESHOLDS[training][dataset]


def test_es_cosine_threshold_is_half_the_linear_prediction_and_grows_with_population():
    # n pairs in d = 1 dimension: every estimate is +-g, the cosine is 1, half of it is asked.
    assert es_cosine_threshold(10, 1) == pytest.approx(0.5)
    # n = (pi / 3)(d - 1): noise and signal are equal, the predicted cosine is 1/sqrt(2).
    assert es_cosine_threshold(10, 1 + 30 / math.pi) == pytest.approx(0.5 / math.sqrt(2))
    bars = [es_cosine_threshold(n, 75) for n in (25, 100, 400, 1600)]
    assert bars == sorted(bars)
    assert bars[-1] < 0.5


def test_unknown_implementation_names_the_installed_ones():
    installed = list(discover())
    with pytest.raises(RegistryError, match="no implementation named 'nonesuch'") as info:
        select(["nonesuch"])
    for name in installed:
        assert name in str(info.value)


def test_every_installed_implementation_has_both_recipes():
    for impl in discover().values():
        assert set(impl.recipes) >= {"mnist", "breast_cancer"}


def _measurements() -> list[Measurement]:
    return [
        Measurement("gradient_vs_torch", "demo", "a", 0.25, 1.0, True, {"max_abs_error": 1e-16}),
        Measurement("gradient_vs_torch", "demo", "b", 2.0, 1.0, False, {"max_abs_error": 3e-9}),
        Measurement("accuracy", "demo", "mnist", 0.981, 0.975, True, {"train_seconds": 40.0}),
    ]


def test_summary_keeps_the_worst_case_and_counts_failures():
    rows = {r["check"]: r for r in summarize(_measurements())}
    assert rows["gradient_vs_torch"]["worst"] == 2.0
    assert rows["gradient_vs_torch"]["failed"] == 1
    assert rows["gradient_vs_torch"]["max_abs_error"] == 3e-9
    assert rows["accuracy[mnist]"]["worst"] == 0.981
    table = format_table(summarize(_measurements()))
    assert "98.10%" in table
    assert ">= 97.50%" in table
    assert "3.00e-09" in table


def test_json_is_written_atomically(tmp_path: Path):
    target = tmp_path / "sub" / "results.json"
    write_json(target, [m.to_json() for m in _measurements()] + [{"value": math.inf}])
    assert json.loads(target.read_text())[0]["check"] == "gradient_vs_torch"
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]

    class Unserialisable:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_json(target, {"bad": Unserialisable()})
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]
    assert json.loads(target.read_text())[0]["check"] == "gradient_vs_torch"


def test_infinite_values_become_strings_in_json():
    m = Measurement("bad_input", "demo", "x", math.inf, 1.0, False)
    assert m.to_json()["value"] == "inf"


def test_cli_lists_and_rejects(capsys: pytest.CaptureFixture[str]):
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    for name in discover():
        assert name in listed
    assert cli.main(["report", "--impl", "nonesuch"]) == 2
    assert "no implementation named 'nonesuch'" in capsys.readouterr().err


def test_the_readme_sample_table_has_the_report_columns():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    sample = readme.split("```text\nimplementation")[1]
    header = ("implementation" + sample.split("\n", 1)[0]).split()
    assert header == format_table([]).splitlines()[0].split()
    for line in sample.split("```")[0].splitlines()[2:]:
        assert line.split()[3] in ("pass", "FAIL"), line
