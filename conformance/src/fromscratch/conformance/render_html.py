"""Lay a :class:`~fromscratch.conformance.document.Document` out as one HTML file.

The file stands alone and opens offline: the style sheet is inline, every figure is a
``data:`` URI, and nothing is fetched (no fonts, scripts or CDN).
"""

from __future__ import annotations

import base64
from html import escape

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

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 2rem;
       color: #1b1b1b; line-height: 1.45; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ccc;
      padding: 0.4rem 0; z-index: 1; }
nav a { margin-right: 1rem; }
.banner { background: #fff3cd; border: 2px solid #d39e00; padding: 0.6rem 1rem; font-weight: bold; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.88rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #f1f1f1; }
td.pass { background: #d4edda; }
td.fail { background: #f8d7da; font-weight: bold; }
td.na { background: #eee; color: #777; }
td a { color: inherit; }
td { overflow-wrap: anywhere; }
.row { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
.row > figure { flex: 0 1 34rem; margin-top: 0.6rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
figure { margin: 0.8rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.88rem; color: #444; max-width: 60rem; }
"""


def _cell(tag: str, c: Cell) -> str:
    classes = f' class="{c.status}"' if c.status else ""
    title = f' title="{escape(c.title)}"' if c.title else ""
    text = escape(c.text)
    if c.href:
        text = f'<a href="{escape(c.href)}">{text}</a>'
    return f"<{tag}{classes}{title}>{text}</{tag}>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "\n".join("<tr>" + "".join(_cell("td", c) for c in row) + "</tr>" for row in table.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _figure(figure: Figure, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    caption = escape(figure.caption)
    return (
        f'<figure id="fig-{escape(figure.name)}">'
        f'<img src="data:image/png;base64,{data}" alt="{caption}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _block(block: Block, document: Document) -> str:
    if isinstance(block, Text):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Pre):
        return f"<pre>{escape(block.text)}</pre>"
    if isinstance(block, Heading):
        anchor = f' id="{escape(block.anchor)}"' if block.anchor else ""
        return f"<h3{anchor}>{escape(block.text)}</h3>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Row):
        items = "\n".join(_block(item, document) for item in block.items)
        return f'<div class="row">\n{items}\n</div>'
    return _figure(block, document.figures[block.name])


def render(document: Document) -> str:
    """The page, as text."""
    nav = " ".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in document.sections)
    banner = (
        f'<p class="banner" id="banner">{escape(document.banner)}</p>' if document.banner else ""
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(document.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{escape(document.title)}</h1>{banner}</header>",
        f"<nav>{nav}</nav>",
        "<main>",
    ]
    for section in document.sections:
        parts.append(f'<section id="{section.id}">')
        parts.append(f"<h2>{escape(section.title)}</h2>")
        parts += [_block(b, document) for b in section.blocks]
        parts.append("</section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)
