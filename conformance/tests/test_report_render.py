"""The report rendered from a hand-made ``results.json``: every section, every figure,
every implementation; valid HTML that asks nothing of the network; ``--from`` on the
command line, and its errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import html5lib
import pytest
import report_fixture
from report_fixture import expected_figures, section_text

from fromscratch.conformance import cli, report, sections

Rendered = tuple[Path, str, str]


def render(out: Path, results: dict[str, Any]) -> Rendered:
    report.render(results, out)
    return out, (out / "index.html").read_text(), (out / "report.md").read_text()


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The fixture rendered once for the module: drawing the figures is the slow part."""
    return render(tmp_path_factory.mktemp("full"), report_fixture.results())


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(tmp_path_factory.mktemp("quick"), report_fixture.results(quick=True, bench=False))


def test_the_fixture_matches_the_schema():
    assert report.schema_problem(report_fixture.results()) == ""
    broken = report_fixture.results()
    del broken["trainings"][0]["loss"]
    assert "loss" in report.schema_problem(broken)


def test_every_section_figure_and_implementation_is_on_both_pages(full: Rendered):
    results = report_fixture.results()
    out, html, md = full
    figures = expected_figures(results)
    for section_id, title in sections.SECTIONS:
        section_text(html, section_id)
        assert f"## {title}" in md
    for name in figures:
        assert f'id="fig-{name}"' in html, name
        assert f"(figures/{name}.png)" in md, name
        png = out / "figures" / f"{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG"), name
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == len(figures)
    verdict = section_text(html, "verdict")
    for impl in report_fixture.IMPLEMENTATIONS:
        assert f"<th>{impl}</th>" in verdict
        assert f"weights/{impl}-mnist.safetensors" in html
        assert f"{impl}: first-layer weights" not in html  # titles live inside the PNGs
        assert f"fig-weights-{impl}-mnist" in html


def test_two_recipes_on_one_data_set_each_get_their_curve_and_their_tiles(full: Rendered):
    """mnist has two recipes (mnist, mnist_cnn): the caption names each curve once, under its
    recipe, and the CNN, whose spec opens with Unflatten, shows its first Conv2d's kernels."""
    _, html, md = full
    caption = "for the mnist recipe (alpha, beta) and the mnist_cnn recipe (alpha)."
    assert caption in html
    assert caption.replace("_", "\\_") in md  # Markdown escapes the underscore
    for page in (html, md):
        assert "for alpha, beta." in page  # breast_cancer: one recipe, names only
    assert 'id="fig-weights-alpha-mnist_cnn"' in html
    assert "first 6 of 6 first-layer units of alpha" in html
    tiles = next(t for t in report_fixture.results()["trainings"] if t.get("recipe"))
    assert tiles["first_layer"]["shape"] == [5, 5]


def test_a_new_check_and_a_new_details_field_show_up_unprompted(full: Rendered):
    _, html, md = full
    assert report_fixture.NEW_CHECK in section_text(html, "verdict")
    details = section_text(html, "details")
    assert f"{report_fixture.NEW_FIELD} = 2.weight" in details
    assert report_fixture.NEW_FIELD.replace("_", "\\_") in md


def test_verdict_cells_are_coloured_link_to_details_and_give_the_ratio(full: Rendered):
    _, html, _ = full
    verdict = section_text(html, "verdict")
    # alpha's gradient check: worst 0.02 of the allowed error, two cases, both pass.
    assert re.search(
        r'<td class="pass"[^>]*><a href="#d-alpha-gradient-vs-torch">pass 0.02x', verdict
    )
    # alpha's MNIST accuracy: 0.93 against 0.975, failed.
    assert re.search(
        r'<td class="fail"[^>]*><a href="#d-alpha-accuracy-mnist">FAIL 1/1 0.954x', verdict
    )
    # beta's MNIST accuracy ran on the CI subset and says so; its gradient check does not apply.
    assert "pass 1.09x (subset)" in verdict
    assert '<td class="na"' in verdict
    ids = set(re.findall(r'id="([^"]+)"', html))
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in ids, target


def test_failures_are_shown_with_their_message(full: Rendered):
    _, html, md = full
    failed = section_text(html, "failures")
    assert "FAILED beta: bad_input[X NaN]" in failed
    assert "TypeError: unsupported operand type(s)" in failed
    assert "FAILED alpha: accuracy[mnist]" in failed
    assert "all passed" not in html.split("</h1>")[0]
    assert "FAILURES" in md.splitlines()[0]


def test_quick_is_labelled_on_every_page_and_missing_bench_is_said(full: Rendered, quick: Rendered):
    _, html, md = quick
    assert 'class="banner"' in html
    assert "QUICK" in html.split("</h1>")[0]
    assert sections.QUICK_BANNER.split(":")[0] in md.splitlines()[2]
    assert "Speed ratios are missing: reports/bench.json was not found" in section_text(
        html, "speed"
    )
    _, full_html, _ = full
    assert 'class="banner"' not in full_html
    assert "0.8" in section_text(full_html, "speed")
    assert "MISSED" in full_html


class _Structure(HTMLParser):
    """Every element closed, in order (void elements excepted); every URL local."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


@pytest.mark.parametrize("rendered", ["full", "quick"])
def test_the_html_is_valid_and_offline(rendered: str, request: pytest.FixtureRequest):
    _, html, _ = request.getfixturevalue(rendered)
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any HTML5 parse error
    structure = _Structure()
    structure.feed(html)
    assert structure.open == []
    assert structure.urls
    assert all(u.startswith(("#", "data:image/png;base64,")) for u in structure.urls)
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert html.startswith("<!DOCTYPE html>")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "fromscratch.conformance", "report", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_from_re_renders_the_same_page_without_training_and_exits_1_on_failures(
    tmp_path: Path, full: Rendered
):
    source = tmp_path / "results.json"
    source.write_text(json.dumps(report_fixture.results()))
    done = _cli("--from", str(source), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the fixture holds failures
    assert "running the checks" not in done.stdout
    _, html, md = full
    assert (tmp_path / "out" / "index.html").read_text() == html
    assert (tmp_path / "out" / "report.md").read_text() == md


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read it"),
        ('{"schema_version": 1, "quick": tr', "not valid JSON, damaged or truncated"),
        ('{"schema_version": 99}', "does not match results.schema.json"),
    ],
)
def test_from_a_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
):
    source = tmp_path / "results.json"
    if content is not None:
        source.write_text(content)
    assert cli.main(["report", "--from", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert str(source) in err
    assert not (tmp_path / "out").exists()


def test_schema_error_names_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    broken = report_fixture.results()
    broken["measurements"][3]["passed"] = "yes"
    source = tmp_path / "results.json"
    source.write_text(json.dumps(broken))
    assert cli.main(["report", "--from", str(source), "--out", str(tmp_path)]) == 2
    assert "['measurements'][3]['passed']" in capsys.readouterr().err


def test_out_must_be_a_folder_and_from_takes_no_run_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "file").write_text("")
    assert cli.main(["report", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert cli.main(["report", "--from", "x.json", "--quick"]) == 2
    assert "--from re-renders a finished run" in capsys.readouterr().err
