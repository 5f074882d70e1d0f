"""Every code block the docs pull from the source is current, and the puller itself works."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest


def _snippets() -> ModuleType:
    path = Path(__file__).with_name("snippets.py")
    spec = importlib.util.spec_from_file_location("snippets", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


snippets = _snippets()
PAGE = snippets.DOCS / "page.md"
SOURCE = "docs/snippets.py"


def test_every_page_is_current():
    stale = [p for p in snippets.pages() if snippets.render(p.read_text(), p) != p.read_text()]
    assert not stale, f"run `python docs/snippets.py` to refresh {stale}"


def test_ruff_leaves_every_page_with_snippets_alone():
    # ruff would reformat the copied code (dedented out of its class) and break the copy.
    config = tomllib.loads((snippets.ROOT / "pyproject.toml").read_text())
    excluded = set(config["tool"]["ruff"]["format"]["exclude"])
    pages = {p.relative_to(snippets.ROOT).as_posix() for p in snippets.pages()}
    assert pages <= excluded, f"add {sorted(pages - excluded)} to [tool.ruff.format] exclude"


def test_a_block_gets_the_named_definition_with_a_caption():
    text = f"intro\n<!-- snippet: {SOURCE}::source_of -->\nold\n<!-- /snippet -->\nend\n"
    out = snippets.render(text, PAGE)
    assert out.startswith("intro\n<!-- snippet:")
    assert out.endswith("<!-- /snippet -->\nend\n")
    assert "*[`snippets.py`](snippets.py), `source_of`*" in out
    assert "```python\ndef source_of(path: str, qualname: str) -> str:\n" in out
    assert "old" not in out
    assert snippets.render(out, PAGE) == out  # filling is idempotent


def test_a_method_is_dedented_out_of_its_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "m.py").write_text(
        "class A:\n    @staticmethod\n    def f() -> int:\n        return 1\n\n    x = 2\n"
    )
    monkeypatch.setattr(snippets, "ROOT", tmp_path)
    assert snippets.source_of("m.py", "A.f") == "@staticmethod\ndef f() -> int:\n    return 1"


@pytest.mark.parametrize(
    ("name", "message"),
    [("docs/nonesuch.py::f", "does not exist"), (f"{SOURCE}::Nonesuch.f", "'Nonesuch'")],
)
def test_a_marker_naming_nothing_is_an_error(name: str, message: str):
    with pytest.raises(snippets.SnippetError, match=message):
        snippets.render(f"<!-- snippet: {name} -->\n<!-- /snippet -->", PAGE)
