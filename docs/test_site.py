"""The documentation site: it builds strictly, every concept shows every implementation's
code (or its reason), internal links hold, and a reader's browser renders the math.

The site is built once per test run into a temporary folder, by the same command as
``nox -s docs`` (``sphinx -W --keep-going``), in a subprocess so that a failed build
shows Sphinx's own warnings in the failure message.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS), str(DOCS / "_ext")]

import fromscratch_docs as ext  # noqa: E402
from concept_table import CONCEPTS, Concept, NotApplicable  # noqa: E402

# The browser test's page: a concept whose math has fractions and where every
# implementation has code, so every tab must hold some.
BROWSER_CONCEPT = next(c for c in CONCEPTS if c.slug == "loss")
BROWSER_PAGE = f"concepts/{BROWSER_CONCEPT.slug}.html"
SCREENSHOT = DOCS / "_build" / "screenshots" / f"concept-{BROWSER_CONCEPT.slug}.png"
INSTALL_HINT = (
    "the site's browser test needs Chromium: on Debian or Ubuntu `sudo apt-get install "
    "chromium` (or set FROMSCRATCH_CHROMIUM to a Chromium executable), and "
    "`pip install -c constraints.txt playwright` (its own browser download is not needed)"
)


def installed() -> list[str]:
    return [impl.name for impl in ext.installed_implementations()]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    result = subprocess.run(
        [*command, str(DOCS), str(out)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"the strict build failed:\n{result.stderr}"
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(), "html.parser")


# ----------------------------------------------------------------------------- the table


def test_every_installed_implementation_has_an_entry_for_every_concept():
    names = installed()
    assert {"loops", "matrix", "autograd", "evolution"} <= set(names)
    assert ext.missing_entries(names) == []


def test_a_missing_entry_is_reported():
    concept = Concept("c", "C", "$x$", "note", {"matrix": NotApplicable("because")})
    problems = ext.missing_entries(["matrix", "newcomer"], (concept,))
    assert len(problems) == 1
    assert "'newcomer' has no entry for concept 'c'" in problems[0]


@pytest.mark.parametrize("concept", CONCEPTS, ids=lambda c: c.slug)
def test_every_reference_names_a_definition_with_code(concept: Concept):
    for name, entry in concept.code.items():
        if isinstance(entry, NotApplicable):
            assert "because" in entry.reason or len(entry.reason.split()) >= 5, (name, entry)
            continue
        assert entry, f"{concept.slug}/{name}: an empty list of code; say NotApplicable(why)"
        for ref in entry:
            tree = ast.parse(ext.source_file(ref).read_text())
            scope: list[ast.stmt] = tree.body
            for part in ref.qualname.split("."):
                found = [
                    n
                    for n in scope
                    if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == part
                ]
                assert found, f"{concept.slug}/{name}: {ref.ref} does not exist"
                scope = found[-1].body
            has_docstring = isinstance(scope[0], ast.Expr) and isinstance(
                scope[0].value, ast.Constant
            )
            assert scope[has_docstring:], f"{ref.ref} is a docstring and nothing else"


# ----------------------------------------------------------------------------- the built site


@pytest.mark.parametrize("concept", CONCEPTS, ids=lambda c: c.slug)
def test_every_concept_page_shows_every_implementation(site: Path, concept: Concept):
    page = soup(site / "concepts" / f"{concept.slug}.html")
    assert page.select(".math"), "the math comes first, and there is none"
    tabs = page.select("div.sd-tab-set")
    assert len(tabs) == 1
    labels = [label.get_text(strip=True) for label in tabs[0].select("label.sd-tab-label")]
    assert labels == installed()
    for name, content in zip(labels, tabs[0].select("div.sd-tab-content"), strict=True):
        entry = concept.code[name]
        if isinstance(entry, NotApplicable):
            reason = content.select_one(".not-applicable")
            assert reason is not None
            assert entry.reason in " ".join(reason.get_text().split())
            continue
        blocks = content.select("div.literal-block-wrapper")
        assert len(blocks) == len(entry), name
        for ref, block in zip(entry, blocks, strict=True):
            caption = block.select_one(".caption-text")
            assert caption is not None
            assert caption.get_text() == f"{ref.module}.{ref.qualname}"
            code = block.select_one("pre")
            assert code is not None
            assert code.get_text().lstrip().startswith(("def ", "class ", "@")), ref.ref


def test_the_pages_are_there(site: Path):
    for page in ["index", "protocol", "report", "concepts/index", "implementations/index"]:
        assert (site / f"{page}.html").is_file(), page
    for name in installed():
        implementation = soup(site / "implementations" / f"{name}.html")
        assert implementation.select("pre"), f"{name}'s page has no code from its README"
        api = soup(site / "api" / f"{name}.html")
        assert api.select("dl.py.function, dl.py.class"), f"{name}'s API page documents nothing"
        assert api.select(".math"), f"{name}'s API page renders no math"


def test_math_is_served_by_the_site_itself(site: Path):
    page = (site / BROWSER_PAGE).read_text()
    assert 'src="../_static/mathjax/tex-chtml.js' in page
    assert "cdn" not in page.lower()
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_the_report_page_says_how_to_make_a_report_or_shows_it(site: Path):
    text = soup(site / "report.html").get_text()
    assert "nox -s report" in text
    if (ext.REPORTS / "index.html").is_file():
        assert (site / ext.REPORT_DIR / "index.html").is_file()


def test_the_link_checker_finds_missing_files_and_fragments(tmp_path: Path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#here">ok</a> <a href="b.html#gone">x</a> <a href="c.html">x</a>'
        '<a href="https://example.org/">external</a> <a href="#top" id="top">self</a>'
    )
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    problems = list(ext.broken_links(tmp_path))
    assert len(problems) == 2
    assert "no id 'gone'" in problems[0]
    assert "no file c.html" in problems[1]


# ----------------------------------------------------------------------------- the browser


def chromium() -> str | None:
    override = os.environ.get("FROMSCRATCH_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


TEX = re.compile(r"\\[A-Za-z_{]+")  # a control sequence: \frac, \partial, \_


def typeset(page: Any, html: Path) -> tuple[int, str]:
    """Open ``html``, wait for MathJax; the formulas typeset and the prose (no code)."""
    page.goto(html.as_uri())
    page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")  # resolves once the page is typeset
    rendered = page.locator("mjx-container").count()
    if page.locator("mjx-merror").count():
        return 0, "a MathJax error"
    # What a reader sees, without the code (whose docstrings hold TeX on purpose).
    prose = page.evaluate(
        """() => { const a = document.querySelector('article').cloneNode(true);
                   a.querySelectorAll('pre, .highlight').forEach(e => e.remove());
                   return a.innerText; }"""
    )
    return rendered, prose


def test_a_concept_page_in_headless_chromium(request: pytest.FixtureRequest):
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, but the browser test cannot run: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    site: Path = request.getfixturevalue("site")  # built only when the browser can run

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            # Every concept page: its math typeset, no TeX left in what a reader sees.
            math = {c.slug: typeset(page, site / f"concepts/{c.slug}.html") for c in CONCEPTS}
            rendered, text = typeset(page, site / BROWSER_PAGE)
            labels = page.locator(".sd-tab-set label.sd-tab-label")
            tabs = []
            for i in range(labels.count()):
                labels.nth(i).click()
                shown = page.locator(".sd-tab-set .sd-tab-content:visible")
                tabs.append(
                    (
                        labels.nth(i).inner_text().strip(),
                        shown.locator("pre").count(),
                        shown.inner_text(),
                    )
                )
            labels.nth(0).click()
            page.mouse.move(0, 0)  # no hover highlight in the picture
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()

    assert rendered >= 3, f"MathJax rendered {rendered} formulas"
    assert "\\frac" not in text, "raw TeX left on the page"
    assert "\\partial" not in text, "raw TeX left on the page"
    for slug, (count, prose) in math.items():
        assert count >= 1, f"{slug}: no formula typeset"
        assert not TEX.findall(prose), f"{slug}: TeX left on the page: {TEX.findall(prose)}"
    assert [name for name, _, _ in tabs] == installed()
    for name, blocks, shown in tabs:
        entry = BROWSER_CONCEPT.code[name]
        assert not isinstance(entry, NotApplicable), f"pick a page where {name} has code"
        assert blocks == len(entry) >= 1, f"the {name} tab shows {blocks} code blocks"
        assert "def " in shown, name
    outside = [url for url in requests if not url.startswith("file:")]
    assert outside == [], f"the page asked the network for {outside}"
    assert errors == []
    print(f"screenshot: {SCREENSHOT}")


def test_the_report_page_follows_what_reports_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(ext, "REPORTS", tmp_path)
    assert "No report existed" in ext.report_page()
    (tmp_path / "results.json").write_text("{}")
    assert f'href="{ext.REPORT_DIR}/results.json"' in ext.report_page()
    (tmp_path / "index.html").write_text("<html></html>")
    page = ext.report_page()
    assert f'src="{ext.REPORT_DIR}/index.html"' in page
    assert "nox -s report" in page


def test_a_readme_becomes_a_page_with_code_from_the_source_and_links_that_resolve():
    impls = ext.installed_implementations()
    loops = next(i for i in impls if i.name == "loops")
    assert loops.readme is not None
    page = DOCS / "implementations" / "loops.md"
    text = ext.readme_page(loops.readme, page, impls)
    assert "<!-- snippet:" not in text  # every block is pulled from the source instead
    assert "```{literalinclude} ../../implementations/loops/src/fromscratch/loops/" in text
    assert ":pyobject: Neuron.forward" in text
    assert "](matrix.md)" in text  # the README's link to ../matrix, as the site's page


def test_a_readme_link_to_a_folder_keeps_its_words(tmp_path: Path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "layer.py").write_text("x = 1\n")
    readme = tmp_path / "README.md"
    readme.write_text("See [the tests](tests/) and [the layer](layer.py).")
    text = ext.readme_page(readme, DOCS / "implementations" / "x.md", [])
    folder = Path(os.path.relpath(tmp_path / "tests", ext.ROOT)).as_posix()
    assert f"See the tests (`{folder}/`)" in text
    assert "[the layer](" in text
    assert text.endswith("layer.py).")
