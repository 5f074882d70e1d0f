"""``fromscratch text``: each character model beside its torch twin, on a tiny run.

The full run (the READMEs' figures) takes about half an hour and belongs to ``nox -s
report``; here every model takes three steps on the real text, validated on a few
windows, which is the same code path. A planted bug (a schedule dropped from ``fit``) must
open a gap to the twin, and a damaged ``text.json`` must be named, never shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fromscratch.conformance import cli, text
from fromscratch.conformance.registry import discover

if not Path(os.environ.get("FROMSCRATCH_DATA", ""), "tinyshakespeare", "input.txt").is_file():
    pytest.skip("FROMSCRATCH_DATA has no tinyshakespeare/input.txt", allow_module_level=True)

SHORT = ["--steps", "3", "--validation-windows", "8", "--sample-length", "30"]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Every model whose implementation is installed, three steps each; skipped where none
    is (``nox -s loops`` or ``nox -s evolution`` install one implementation without any)."""
    out = tmp_path_factory.mktemp("text") / "text.json"
    assert cli.main(["text", "--out", str(out), *SHORT]) == 0
    data = json.loads(out.read_text())
    if not data["runs"]:
        pytest.skip("no installed implementation has a character model")
    return out, data


def test_each_model_matches_its_twin_after_the_same_steps(
    short_run: tuple[Path, dict[str, Any]],
) -> None:
    out, data = short_run
    installed = discover()
    expected = [m.name for m in text.MODELS.values() if m.implementation in installed]
    assert [r["model"] for r in data["runs"]] == expected
    assert data["full"] is False
    assert data["failed"] == {}
    for run in data["runs"]:
        # float32 from one state dict, the same three batches: round-off apart, no more
        assert abs(run["relative_gap"]) < 1e-5, run["model"]
        assert run["steps"] < run["full_steps"]
        assert run["validation_windows"] == 8
        assert 3.0 < run["ours"]["validation_nats_per_char"] < 4.3  # near log 65 = 4.17
        sample = run["sample"]
        assert sample["text"].startswith(sample["prompt"])
        assert sample["temperature"] == 0.8
        assert len(sample["text"]) == len(sample["prompt"]) + 30
        assert run["ours"]["train_cpu_s"] > 0
        assert run["torch"]["tokens_per_wall_s"] > 0
    read = text.read(out)
    assert read["data"] == data
    assert "SHORT run" in read["note"]
    assert "--steps 3" in read["note"]


def test_the_full_run_is_the_one_the_readmes_quote() -> None:
    """Steps, rates and batching of the figures in the READMEs: a change here changes them."""
    m, a, t = (text.MODELS[n] for n in ("matrix-lstm", "autograd-lstm", "autograd-transformer"))
    assert (m.steps, m.epochs, m.learning_rate, m.batches) == (966, 2, 4e-3, "epochs")
    assert (a.steps, a.learning_rate, a.batches) == (1000, 3e-3, "random")
    assert (t.steps, t.learning_rate, t.batches) == (2500, 2e-3, "random")
    assert a.options["clip_grad_norm"] == t.options["clip_grad_norm"] == 1.0


def test_a_dropped_schedule_opens_a_gap_to_the_twin(tmp_path: Path) -> None:
    """The planted bug: matrix's model trained without its cosine schedule while the twin
    keeps it. Round-off stays under 1e-5; this must not."""
    if "matrix" not in discover():
        pytest.skip("matrix is not installed")
    from fromscratch.datasets import encode_chars, load_tiny_shakespeare
    from fromscratch.matrix import SequenceNetwork

    class NoSchedule(SequenceNetwork):
        def fit(self, X: Any, y: Any, **options: Any) -> Any:
            options.pop("schedule", None)
            return super().fit(X, y, **options)

    data = tuple(encode_chars(load_tiny_shakespeare(s)) for s in ("train", "validation"))
    model = text.MODELS["matrix-lstm"]
    record = text.train_pair(
        model, NoSchedule, data, steps=4, validation_windows=8, sample_length=1, echo=str
    )
    assert abs(record["relative_gap"]) > 1e-4, record["relative_gap"]


def test_a_missing_or_damaged_file_is_named_and_never_shown(
    short_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, data = short_run
    data = json.loads(json.dumps(data))  # the module's run stays as it was
    missing = text.read(tmp_path / "none.json")
    assert missing["data"] is None
    assert "none.json was not found" in missing["note"]
    truncated = tmp_path / "truncated.json"
    truncated.write_text(out.read_text()[:300])
    damaged = text.read(truncated)
    assert damaged["data"] is None
    assert str(truncated) in damaged["note"]
    assert "damaged" in damaged["note"]
    wrong = tmp_path / "wrong.json"
    del data["runs"][0]["torch"]["validation_nats_per_char"]
    wrong.write_text(json.dumps(data))
    mismatched = text.read(wrong)
    assert mismatched["data"] is None
    assert "text.schema.json at ['runs'][0]['torch']" in mismatched["note"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--steps", "0"], "--steps must be at least 1, got 0"),
        (["--model", "nope"], "invalid choice: 'nope'"),
    ],
)
def test_a_bad_flag_is_one_line_and_status_2(args: list[str], says: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fromscratch.conformance", "text", *args, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_out_must_be_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["text", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


# ------------------------------------------------------------------ the report's section


def with_sequences(source: dict[str, Any]) -> dict[str, Any]:
    """The report fixture with sequence checks of both kinds, one failing, and ``source``."""
    import report_fixture

    results = report_fixture.results()
    layer, training = "sequence_layer_vs_torch", "sequence_training_vs_torch"
    lstm = "LSTM(3, 4, num_layers=2, batch_first=True) on 2x5x3"
    for impl, value in (("alpha", 3e-6), ("beta", 2.5)):
        results["measurements"] += [
            report_fixture._measurement(layer, impl, lstm, value, 1.0, value <= 1),
            report_fixture._measurement(layer, impl, "Embedding(7, 5) on 3x4", 0.0, 1.0, True),
            report_fixture._measurement(training, impl, "lstm-adam-cosine", 1e-4, 1.0, True),
        ]
    results["not_applicable"] = [
        {"check": layer, "implementation": "beta", "cases": 3, "reason": "beta builds no GRU"}
    ]
    results["measurements"].append(
        report_fixture._measurement(
            layer, "alpha", "GRU(3, 4, batch_first=True) on 1x1x3", 0.1, 1.0, True
        )
    )
    results["sequences"] = {"text": source}
    return results


def render_section(results: dict[str, Any]) -> tuple[str, str]:
    """The Sequences section alone, as the report lays it out in HTML and in Markdown (the
    rest of the report, and its figures, are tested elsewhere)."""
    from fromscratch.conformance import render_html, render_markdown, sequence_section
    from fromscratch.conformance.document import Document, Section

    blocks = sequence_section.section(results)
    document = Document("sequences", "", [Section("sequences", "Sequences", blocks)], {})
    return render_html.render(document), render_markdown.render(document)


def test_the_section_says_what_ran_and_marks_a_short_run(
    short_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from fromscratch.conformance import report

    out, data = short_run
    results = with_sequences(text.read(out))
    assert report.schema_problem(results) == ""
    html, md = render_section(results)
    for page in (html, md):
        assert "SHORT RUN" in page
        assert "NOT the full results" in page
        assert "FAIL 1/1 2.5 (1 case)" in page
        assert "pass 3e-06 (1 case)" in page
        assert "not judged: short run" in page
        for run in data["runs"]:
            assert f"{run['ours']['validation_nats_per_char']:.4f}" in page
            assert f"{run['steps']} of {run['full_steps']}" in page
    assert 'title="beta builds no GRU"' in html
    for run in data["runs"]:
        assert f"<pre>{run['sample']['text']}</pre>" in html.replace("&#x27;", "'")
    page, _ = render_section(with_sequences(text.read(tmp_path / "absent.json")))
    assert "figures are MISSING" in page
    assert "absent.json was not found" in page


def test_a_full_run_is_judged_against_the_targets(short_run: tuple[Path, dict[str, Any]]) -> None:
    from fromscratch.conformance import sequence_section
    from fromscratch.conformance.document import Table

    _, data = short_run
    full = json.loads(json.dumps(data))
    full["full"] = True
    good, bad = full["runs"][0], json.loads(json.dumps(full["runs"][0]))
    good["ours"]["validation_nats_per_char"], good["relative_gap"] = 1.65, 0.001
    bad["ours"]["validation_nats_per_char"], bad["relative_gap"] = 1.65, 0.03  # 3% from torch
    full["runs"] = [good, bad]
    blocks = sequence_section.trained(
        {"sequences": {"text": {"source": "t", "data": full, "note": ""}}}
    )
    table = next(b for b in blocks if isinstance(b, Table))
    assert [row[-1].text for row in table.rows] == ["met", "MISSED"]
    assert not any("SHORT RUN" in getattr(b, "text", "") for b in blocks)


def test_the_section_in_headless_chromium(
    short_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The section as a reader meets it; its screenshot is left beside the page."""
    from browser import INSTALL_HINT, find_chromium

    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Chromium was found. {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    out, data = short_run
    html, _ = render_section(with_sequences(text.read(out)))
    (tmp_path / "index.html").write_text(html)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((tmp_path / "index.html").resolve().as_uri(), wait_until="load")
            section = page.locator("section#sequences")
            shown = section.inner_text()
            section.screenshot(path=str(tmp_path / "sequences.png"))
        finally:
            browser.close()
    assert "SHORT RUN" in shown
    assert "Character models on Tiny Shakespeare" in shown
    for run in data["runs"]:
        assert f"{run['model']}: sampled at temperature 0.8" in shown
    assert (tmp_path / "sequences.png").stat().st_size > 10_000
    print(f"screenshot: {tmp_path / 'sequences.png'}")


def test_report_text_trains_only_the_chosen_implementations_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fromscratch report --text``: the selected implementations' models, short with
    ``--quick`` (here shorter still), into text.json beside the report; none selected, none."""
    from fromscratch.conformance import report

    installed = discover()
    if "matrix" not in installed:
        pytest.skip("matrix is not installed")
    monkeypatch.setattr(report, "QUICK_TEXT", tuple(SHORT))
    report._run_text([installed["matrix"]], tmp_path, quick=True)
    data = json.loads((tmp_path / "text.json").read_text())
    assert [r["model"] for r in data["runs"]] == ["matrix-lstm"]
    assert data["full"] is False
    (tmp_path / "text.json").unlink()
    if "loops" in installed:
        report._run_text([installed["loops"]], tmp_path, quick=True)
        assert not (tmp_path / "text.json").exists()
        assert "none of the selected implementations" in capsys.readouterr().out
