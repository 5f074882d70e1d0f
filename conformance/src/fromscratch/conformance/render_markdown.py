"""Lay a :class:`~fromscratch.conformance.document.Document` out as Markdown.

The same content as the web page, for reading on a code host: figures are PNG files in
``figures/`` beside ``report.md``, and pass/fail is spelt out where the page uses colour.
"""

from __future__ import annotations

from fromscratch.conformance.document import (
    Block,
    Cell,
    Document,
    Figure,
    Heading,
    Pre,
    Row,
    Table,
    Text,
)

FIGURES = "figures"
MARK = {"pass": "✅ ", "fail": "❌ ", "na": "", "": ""}


def _escape(text: str) -> str:
    """Text safe inside a Markdown table cell or paragraph."""
    for char in "\\|*_`[]<>":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def _cell(c: Cell) -> str:
    text = MARK[c.status] + _escape(c.text)
    return f"[{text}]({c.href})" if c.href else text


def _table(table: Table) -> str:
    lines = ["| " + " | ".join(_escape(h) for h in table.header) + " |"]
    lines.append("|" + "---|" * len(table.header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _block(block: Block) -> str:
    if isinstance(block, Text):
        return _escape(block.text)
    if isinstance(block, Pre):
        return "```text\n" + block.text.replace("```", "'''") + "\n```"
    if isinstance(block, Heading):
        anchor = f'<a id="{block.anchor}"></a>\n\n' if block.anchor else ""
        return f"{anchor}### {_escape(block.text)}"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Row):
        return "\n\n".join(_block(item) for item in block.items)
    return figure_markdown(block)


def figure_markdown(figure: Figure) -> str:
    return (
        f"![{_escape(figure.caption)}]({FIGURES}/{figure.name}.png)\n\n*{_escape(figure.caption)}*"
    )


def render(document: Document) -> str:
    """The Markdown text; the figures go to ``figures/<name>.png`` beside it."""
    parts = [f"# {_escape(document.title)}"]
    if document.banner:
        parts.append(f"> **{_escape(document.banner)}**")
    parts.append(" · ".join(f"[{s.title}](#{s.id})" for s in document.sections))
    for section in document.sections:
        parts.append(f'<a id="{section.id}"></a>\n\n## {_escape(section.title)}')
        parts += [_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"
