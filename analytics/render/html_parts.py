"""Small HTML builders. Every piece of text passes through `esc`: tag names, segment values and account
names come from customers and must never become markup."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass


def esc(text: object) -> str:
    """`text` as HTML text, quotes included (safe inside attributes too)."""
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and classes such as "num" (right-aligned) or "neg"/"pos" (coloured)."""

    text: str
    classes: str = ""


def num(text: str, value: float | None = None) -> Cell:
    """A right-aligned numeric cell, coloured by the sign of `value` when given."""
    tone = "" if value is None or abs(value) < 1e-9 else (" neg" if value < 0 else " pos")
    return Cell(text, "num" + tone)


def table(headers: Sequence[str | Cell], rows: Sequence[Sequence[str | Cell]], caption: str | None = None,
          classes: str = "data") -> str:
    """An HTML table; plain strings are text cells, `Cell`s carry classes."""
    def cell(tag: str, value: str | Cell) -> str:
        c = value if isinstance(value, Cell) else Cell(value)
        attrs = f' class="{esc(c.classes)}"' if c.classes else ""
        scope = ' scope="col"' if tag == "th" else ""
        return f"<{tag}{attrs}{scope}>{esc(c.text)}</{tag}>"

    parts = [f'<table class="{esc(classes)}">']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(cell("th", h) for h in headers) + "</tr></thead>")
    if rows:
        parts.append("<tbody>" + "".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in rows)
                     + "</tbody>")
    else:
        parts.append(f'<tbody><tr><td class="empty" colspan="{len(headers)}">Nothing to show</td></tr></tbody>')
    parts.append("</table>")
    return "".join(parts)
