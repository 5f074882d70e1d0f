"""The report as plain data: sections of paragraphs, tables and figures.

:mod:`~fromscratch.conformance.sections` builds one :class:`Document` from
``results.json``; :mod:`~fromscratch.conformance.render_html` and
:mod:`~fromscratch.conformance.render_markdown` only lay it out. So the web page and the
Markdown say the same things, and neither can show a number that is not in the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Status: TypeAlias = Literal["pass", "fail", "na", ""]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, a pass/fail status to colour it by, a link and a tooltip."""

    text: str
    status: Status = ""
    href: str = ""
    title: str = ""


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Pre:
    """Preformatted text: an error message or a traceback."""

    text: str


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section; ``anchor`` makes it a link target."""

    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Figure:
    """A figure, by name in :attr:`Document.figures`, with a caption that says what it shows."""

    name: str
    caption: str


@dataclass(frozen=True)
class Row:
    """Tables and figures side by side where there is room (one after another in Markdown)."""

    items: list[Table | Figure]


Block: TypeAlias = Text | Pre | Heading | Table | Figure | Row


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """The whole report. ``banner`` (the ``--quick`` label) is shown at the top of every page;
    ``figures`` maps a figure's name to its PNG bytes."""

    title: str
    banner: str
    sections: list[Section]
    figures: dict[str, bytes]


def cell(text: object, status: Status = "", href: str = "", title: str = "") -> Cell:
    return Cell(str(text), status, href, title)


def slug(*parts: str) -> str:
    """An HTML id made of ``parts``: letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")
