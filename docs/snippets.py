"""Fill the docs' code blocks from the source files, so no page ever pastes code.

A page asks for a function, class or method by its qualified name::

    <!-- snippet: implementations/matrix/src/fromscratch/matrix/layers.py::Linear.backward -->
    <!-- /snippet -->

and this script writes, between the two markers, a caption naming the file and a fenced
block holding that definition exactly as the source has it (decorators included, the
indentation of its class removed). Names rather than line numbers keep the pages right
as the code moves.

    python docs/snippets.py          # rewrite every page (docs/, READMEs) that has markers
    python docs/snippets.py --check  # exit 1 and name every stale page (the tests run this)
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(
    r"(?P<open><!-- snippet: (?P<path>[^\s:]+)::(?P<name>[\w.]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /snippet -->)",
    re.DOTALL,
)


class SnippetError(LookupError):
    """A marker names a file or definition that does not exist."""


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _find(tree: ast.Module, qualname: str, where: str) -> Definition:
    """The definition ``qualname`` (``Class.method`` or ``function``) in ``tree``."""
    scope: list[ast.stmt] = tree.body
    node: Definition | None = None
    for part in qualname.split("."):
        matches = [n for n in scope if isinstance(n, Definition) and n.name == part]
        if not matches:
            raise SnippetError(f"{where}: no definition named {part!r} (looking for {qualname})")
        node = matches[-1]  # the last one wins, as at run time
        scope = node.body
    assert node is not None
    return node


def source_of(path: str, qualname: str) -> str:
    """The source text of ``qualname`` in ``path`` (relative to the repository root)."""
    file = ROOT / path
    if not file.is_file():
        raise SnippetError(f"snippet source {path} does not exist")
    text = file.read_text()
    node = _find(ast.parse(text), qualname, path)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    assert node.end_lineno is not None
    lines = text.splitlines()[first - 1 : node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def render(text: str, page: Path) -> str:
    """``text`` (the page at ``page``) with every snippet block filled from its source."""

    def fill(match: re.Match[str]) -> str:
        path, name = match["path"], match["name"]
        code = source_of(path, name)
        link = os.path.relpath(ROOT / path, page.parent)
        caption = f"*[`{Path(path).name}`]({link}), `{name}`*"
        return f"{match['open']}{caption}\n\n```python\n{code}\n```\n{match['close']}"

    return BLOCK.sub(fill, text)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file, so no page is left half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pages() -> list[Path]:
    """Every page with snippet markers: under docs/, and the READMEs."""
    candidates = [*DOCS.rglob("*.md"), ROOT / "README.md", *ROOT.glob("*/README.md")]
    candidates += ROOT.glob("implementations/*/README.md")
    return sorted(p for p in set(candidates) if p.is_file() and BLOCK.search(p.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    args = parser.parse_args(argv)
    stale = []
    for page in pages():
        text = page.read_text()
        fresh = render(text, page)
        if fresh != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                write_atomically(page, fresh)
    verb = "stale" if args.check else "updated"
    for page in stale:
        print(f"{verb}: {page}", file=sys.stderr if args.check else sys.stdout)
    if args.check and stale:
        print("run `python docs/snippets.py` to refresh them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
