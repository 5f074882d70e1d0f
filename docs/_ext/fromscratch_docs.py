"""The Sphinx extension behind the site: pages generated from the code, links checked.

At ``builder-inited`` it writes the generated pages into the source folder (each listed
in ``docs/.gitignore``), only where their text changed:

* ``concepts/<slug>.md`` from :data:`concept_table.CONCEPTS`: the math, then one tab per
  installed implementation with its code (``literalinclude :pyobject:``, so the code is
  read from the source at build time, by qualified name), then the note;
* ``implementations/<name>.md``: the implementation's README, its snippet blocks turned
  into ``literalinclude`` and its relative links pointed at the site's pages or files;
* ``api/<name>.md``: ``automodule`` for every module of the package;
* ``report.md``: the latest ``reports/`` (copied into the site) or how to make one.

"Installed implementations" are the entry points of ``fromscratch.implementations``,
the same registry the conformance suite uses. At ``build-finished`` every ``href`` and
``src`` in the built HTML that stays inside the site is checked: the file must exist and
so must the ``#fragment``. Every problem is a Sphinx warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))

from concept_table import CONCEPTS, READING_ORDER, Code, Concept, NotApplicable  # noqa: E402
from snippets import BLOCK  # noqa: E402  (the marker syntax the READMEs use)

logger = logging.getLogger(__name__)

REPORTS = ROOT / "reports"
REPORT_DIR = "report"  # where the site keeps its copy of reports/


# ----------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Implementation:
    name: str
    package: str  # e.g. fromscratch.matrix
    package_dir: Path

    @property
    def readme(self) -> Path | None:
        for parent in self.package_dir.parents[:3]:  # src/fromscratch/<name> -> <dist>/
            if (parent / "README.md").is_file():
                return parent / "README.md"
        return None


def installed_implementations() -> list[Implementation]:
    """Every registered implementation, as the conformance registry finds them, in
    :data:`~concept_table.READING_ORDER`."""
    found = []
    for ep in entry_points(group="fromscratch.implementations"):
        package = ep.value.partition(":")[0]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        found.append(Implementation(ep.name, package, Path(spec.submodule_search_locations[0])))
    rank = {name: i for i, name in enumerate(READING_ORDER)}
    return sorted(found, key=lambda i: (rank.get(i.name, len(rank)), i.name))


def source_file(ref: Code) -> Path:
    """The file that defines ``ref``'s module, found without importing it."""
    spec = importlib.util.find_spec(ref.module)
    if spec is None or spec.origin is None:
        raise LookupError(f"concept table: no module {ref.module!r} (in {ref.ref})")
    return Path(spec.origin)


def modules_of(impl: Implementation) -> list[tuple[str, bool]]:
    """The package and every module under it, sorted: ``(name, is_package)``."""
    found = [(impl.package, True)]
    for info in pkgutil.walk_packages([str(impl.package_dir)], prefix=impl.package + "."):
        found.append((info.name, info.ispkg))
    return sorted(found)


# ----------------------------------------------------------------------------- writing


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` atomically, and only if it differs (so Sphinx rereads only changes)."""
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def literalinclude(file: Path, qualname: str, page: Path, caption: str) -> str:
    return (
        f"```{{literalinclude}} {relative(file, page)}\n"
        f":language: python\n:pyobject: {qualname}\n:caption: {caption}\n```\n"
    )


def concept_page(concept: Concept, impls: list[Implementation], page: Path) -> str:
    out = [f"# {concept.title}\n", concept.math.strip() + "\n", "## The code\n"]
    out.append("::::{tab-set}\n:sync-group: implementation\n")
    for impl in impls:
        entry = concept.code.get(impl.name)
        out.append(f":::{{tab-item}} {impl.name}\n:sync: {impl.name}\n")
        if entry is None:  # reported by check_table; the page still builds
            out.append("*No entry in the concept table.*\n")
        elif isinstance(entry, NotApplicable):
            out.append("```{admonition} Not applicable\n:class: not-applicable\n\n")
            out.append(f"{entry.reason}\n```\n")
        else:
            for ref in entry:
                caption = f"`{ref.module}.{ref.qualname}`"  # code: __init__ is no markup
                out.append(literalinclude(source_file(ref), ref.qualname, page, caption))
        out.append(":::\n")
    out.append("::::\n")
    out += ["## How they differ\n", concept.note.strip() + "\n"]
    return "\n".join(out)


def missing_entries(names: list[str], concepts: tuple[Concept, ...] = CONCEPTS) -> list[str]:
    """One line for each concept that one of the implementations ``names`` has no entry for."""
    return [
        f"concept table: {name!r} has no entry for concept {concept.slug!r}; add its code, "
        "or NotApplicable('... because ...'), in docs/concept_table.py"
        for concept in concepts
        for name in names
        if name not in concept.code
    ]


def check_table(impls: list[Implementation]) -> None:
    """Warn (and so fail a strict build) for every concept an implementation lacks."""
    for problem in missing_entries([i.name for i in impls]):
        logger.warning(problem)


def index_page(title: str, intro: str, entries: list[str]) -> str:
    toc = "\n".join(entries)
    return f"# {title}\n\n{intro.strip()}\n\n```{{toctree}}\n:maxdepth: 1\n\n{toc}\n```\n"


LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def readme_page(readme: Path, page: Path, impls: list[Implementation]) -> str:
    """A README as a site page: code blocks pulled from the source, links re-pointed."""
    pages = {i.package_dir: page.parent / f"{i.name}.md" for i in impls}
    by_readme = {i.readme: pages[i.package_dir] for i in impls if i.readme}
    by_readme[ROOT / "datasets" / "README.md"] = page.parent / "datasets.md"

    def snippet(match: re.Match[str]) -> str:
        file = ROOT / match["path"]
        return literalinclude(file, match["name"], page, f"`{file.name}`, `{match['name']}`")

    def link(match: re.Match[str]) -> str:
        target = match["target"]
        if urlsplit(target).scheme or target.startswith("#"):
            return match[0]
        path, _, fragment = target.partition("#")
        resolved = (readme.parent / unquote(path)).resolve()
        if resolved.is_dir() and (resolved / "README.md").is_file():
            resolved = resolved / "README.md"
        resolved = by_readme.get(resolved, resolved)
        if resolved.is_dir():  # a folder (tests/, scripts/): the site has no page for it
            return f"{match['text']} (`{Path(os.path.relpath(resolved, ROOT)).as_posix()}/`)"
        new = relative(resolved, page) + (f"#{fragment}" if fragment else "")
        return f"[{match['text']}]({new})"

    text = BLOCK.sub(snippet, readme.read_text())
    return LINK.sub(link, text)


def api_page(impl: Implementation) -> str:
    """reStructuredText, not MyST: autodoc's docstrings are reST, and a section title in
    a docstring stays an implicit target there (under MyST's ``eval-rst`` two modules
    with the same section title clash as duplicate labels)."""
    title = f"``{impl.package}``"
    out = [title, "=" * len(title), ""]
    out.append(
        f"Every module of the ``{impl.name}`` implementation, from its docstrings. Its "
        f"design, and the order to read the files in: :doc:`../implementations/{impl.name}`."
    )
    for module, is_package in modules_of(impl):
        heading = f"``{module}``"
        out += ["", heading, "-" * len(heading), "", f".. automodule:: {module}"]
        if not is_package:  # a package only re-exports: members are documented where defined
            out.append("   :members:")
    return "\n".join(out) + "\n"


def report_page() -> str:
    head = "# The report\n\n"
    how = (
        "`nox -s report` trains every installed implementation with its own recipes, runs "
        "every conformance check on it and writes the results into `reports/` (the table, "
        "`reports/results.json` and the HTML report). Build the site again afterwards "
        "(`nox -s docs`) and the latest report appears on this page.\n"
    )
    if (REPORTS / "index.html").is_file():
        return head + (
            "The latest report, as `nox -s report` left it in `reports/` when this site was "
            "built:\n\n"
            f'<p><a class="reference" href="{REPORT_DIR}/index.html">Open the report on its '
            "own page</a></p>\n\n"
            f'<iframe class="report-frame" src="{REPORT_DIR}/index.html" title="The latest '
            'report"></iframe>\n\n## Making a new one\n\n' + how
        )
    if (REPORTS / "results.json").is_file():
        return head + (
            "This build found `reports/results.json` but no HTML report: "
            f'<a class="reference" href="{REPORT_DIR}/results.json">the raw results</a>.\n\n' + how
        )
    return head + "No report existed when this site was built.\n\n" + how


def generate(app: Sphinx) -> None:
    src = Path(app.srcdir)
    impls = installed_implementations()
    if not impls:
        logger.warning("no implementation is installed (entry points fromscratch.implementations)")
    check_table(impls)

    slugs = []
    for concept in CONCEPTS:
        page = src / "concepts" / f"{concept.slug}.md"
        write_if_changed(page, concept_page(concept, impls, page))
        slugs.append(concept.slug)
    write_if_changed(
        src / "concepts" / "index.md",
        index_page(
            "Concepts",
            "Each page states one idea's math, then shows the code that implements it in "
            "every implementation, one tab each, pulled from the source when the site is "
            "built, and ends with how the implementations differ.",
            slugs,
        ),
    )

    names = []
    # The boundary every implementation shares gets a page and an API page like theirs.
    boundary = importlib.util.find_spec("fromscratch.boundary")
    shared = []
    if boundary is not None and boundary.submodule_search_locations:
        location = Path(boundary.submodule_search_locations[0])
        shared = [Implementation("boundary", "fromscratch.boundary", location)]
    for impl in [*impls, *shared]:
        page = src / "implementations" / f"{impl.name}.md"
        if impl.readme is None:
            text = f"# {impl.name}\n\n`{impl.package}` ships no README.\n"
        else:
            text = readme_page(impl.readme, page, [*impls, *shared])
        api = f"../api/{impl.name}.rst"
        text += f"\n## API reference\n\n[Every module of `{impl.package}`]({api})\n"
        write_if_changed(page, text)
        write_if_changed(src / "api" / f"{impl.name}.rst", api_page(impl))
        names.append(impl.name)
    datasets = src / "implementations" / "datasets.md"
    write_if_changed(datasets, readme_page(ROOT / "datasets" / "README.md", datasets, impls))
    write_if_changed(
        src / "implementations" / "index.md",
        index_page(
            "Implementations",
            "Each implementation in its own words: its design, the order to read its files "
            "in, and its figures. The datasets every one of them trains on come last.",
            [*names, "datasets"],
        ),
    )
    write_if_changed(
        src / "api" / "index.md",
        index_page("API reference", "Every module, from its docstrings.", names),
    )
    write_if_changed(src / "report.md", report_page())


# ----------------------------------------------------------------------------- references


def defined_at(target: str) -> str | None:
    """Where a re-exported name is defined: ``fromscratch.matrix.Network`` gives
    ``fromscratch.matrix.network.Network``; ``None`` if it is not a re-export of ours."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if not module or not qualname or f"{module}.{qualname}" == target:
            return None
        return f"{module}.{qualname}"
    return None


def resolve_reexport(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """A docstring may name a class by the path users import it from (the package);
    autodoc documents it where it is defined. Point the first at the second."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("fromscratch."):
        return None
    canonical = defined_at(target)
    if canonical is None:
        return None
    py = env.get_domain("py")
    return py.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode
    )


# ----------------------------------------------------------------------------- after the build


def copy_report(app: Sphinx, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html" and (REPORTS).is_dir():
        target = Path(app.outdir) / REPORT_DIR
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(REPORTS, target)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)
            elif key in ("href", "src") and value is not None and tag != "base":
                self.links.append(value)


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def broken_links(outdir: Path) -> Iterator[str]:
    """Each internal link of the built site whose file or fragment does not exist."""
    pages: dict[Path, _Links] = {}

    def page(path: Path) -> _Links:
        if path not in pages:
            pages[path] = parse(path)
        return pages[path]

    for html in sorted(outdir.rglob("*.html")):
        rel = html.relative_to(outdir)
        if rel.parts[0] in (REPORT_DIR, "_static"):  # not ours: the report, theme assets
            continue
        for link in page(html).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (html.parent / unquote(parts.path)).resolve() if parts.path else html
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                yield f"{rel}: link to {link!r}: no file {os.path.relpath(target, outdir)}"
            elif (
                parts.fragment
                and target.suffix == ".html"
                and unquote(parts.fragment) not in page(target).ids
            ):
                yield f"{rel}: link to {link!r}: no id {parts.fragment!r} in that page"


def check_links(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    for problem in broken_links(Path(app.outdir)):
        logger.warning("broken internal link: %s", problem)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    app.connect("missing-reference", resolve_reexport)
    app.connect("build-finished", copy_report, priority=800)
    app.connect("build-finished", check_links, priority=900)  # after every copy
    return {"parallel_read_safe": True, "parallel_write_safe": True}
