"""The report from a real run on small data, checked as a reader meets it: in headless
Chromium.

The run is real (the actual checks on the actual ``matrix`` and ``evolution`` models)
but small, to fit CI: the recipes' epochs are cut to a few, and MNIST to its first
2,000 training and 500 test images. So the MNIST accuracy checks fail their thresholds
here, which exercises the failure path too; this file asserts the report's shape, never
an accuracy. The full-size run is ``nox -s report``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import INSTALL_HINT, find_chromium, inspect_page
from report_fixture import expected_figures, section_text

from fromscratch.conformance import checks, cli, report, sections, weights
from fromscratch.conformance.registry import Implementation, select

SMALL = {"train": 2000, "test": 500}
EPOCHS = {"mnist": 2, "breast_cancer": 5}


def _small(impl: Implementation) -> Implementation:
    recipes = {
        d: {"model": dict(r["model"]), "fit": {**r["fit"], "epochs": EPOCHS[d]}}
        for d, r in impl.recipes.items()
        if d in EPOCHS  # the CNN recipe has its own report checks (test_architectures)
    }
    return Implementation(impl.name, impl.factory, recipes)


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    wanted = [i for i in select() if i.name in ("matrix", "evolution")]
    if not wanted:
        pytest.skip("neither matrix nor evolution is installed")
    load = checks.load

    def small_load(dataset: Any, split: str) -> Any:
        X, y = load(dataset, split)
        return (X[: SMALL[split]], y[: SMALL[split]]) if dataset == "mnist" else (X, y)

    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "load", small_load)
        passed = report.report(
            [_small(i) for i in wanted], ("breast_cancer", "mnist"), out, quick=True
        )
    results = json.loads((out / "results.json").read_text())
    assert passed == results["passed"]
    return out, results


def test_real_output_matches_the_schema(real_report: tuple[Path, dict[str, Any]]):
    out, results = real_report
    assert report.schema_problem(results) == ""
    assert results["quick"] is True
    for t in results["trainings"]:
        assert len(t["test_accuracy"]) == len(t["loss"]) == EPOCHS[t["dataset"]]
        assert (out / t["weights"]).stat().st_size > 0


def test_saved_weights_reload_and_give_the_recorded_accuracy(
    real_report: tuple[Path, dict[str, Any]],
):
    out, results = real_report
    for t in results["trainings"]:
        model = weights.load(out / t["weights"], impl=t["implementation"])
        X, y = checks.load(t["dataset"], "test")
        if t["dataset"] == "mnist":
            X, y = X[: SMALL["test"]], y[: SMALL["test"]]
        assert float(np.mean(model.predict(X) == y)) == t["metrics"]["accuracy"], t["weights"]


def test_real_output_renders_every_section_and_figure(real_report: tuple[Path, dict[str, Any]]):
    out, results = real_report
    html = (out / "index.html").read_text()
    md = (out / "report.md").read_text()
    for section_id, title in sections.SECTIONS:
        section_text(html, section_id)
        assert f"## {title}" in md
    for name in expected_figures(results):
        assert f'id="fig-{name}"' in html, name
        assert (out / "figures" / f"{name}.png").exists(), name
    for impl in results["implementations"]:
        assert f"<th>{impl['name']}</th>" in section_text(html, "verdict")


def test_the_page_in_headless_chromium(real_report: tuple[Path, dict[str, Any]]):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Chromium was found. {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    out, results = real_report
    page = inspect_page(out / "index.html", chromium)
    assert page.section_ids == [s for s, _ in sections.SECTIONS]
    assert len(page.images) == len(expected_figures(results))
    for image in page.images:
        assert image["complete"], image["alt"]
        assert image["width"], image["alt"]
        assert image["height"], image["alt"]
    assert page.console_errors == []
    assert page.requests == []
    assert page.screenshot is not None
    assert page.screenshot.stat().st_size > 10_000
    print(f"screenshot: {page.screenshot}")


def test_a_check_that_raises_is_a_failure_and_the_report_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    if "matrix" not in [i.name for i in select()]:
        pytest.skip("matrix is not installed")

    def broken_check() -> checks.Measurement:
        raise RuntimeError("the check itself broke")

    def plan(impl: Implementation, datasets: Any) -> list[Any]:
        return [broken_check, *checks.plan(impl, datasets)[-1:]]  # + the accuracy check

    monkeypatch.setattr(report, "plan", plan)
    argv = ["report", "--impl", "matrix", "--dataset", "breast_cancer", "--out", str(tmp_path)]
    assert cli.main(argv) == 1
    html = (tmp_path / "index.html").read_text()
    failed = section_text(html, "failures")
    assert "FAILED matrix: broken_check[]" in failed
    assert "RuntimeError: the check itself broke" in failed
    assert "Traceback" in failed
    assert 'id="fig-curves-breast_cancer"' in html
    assert json.loads((tmp_path / "results.json").read_text())["passed"] is False
