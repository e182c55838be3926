"""A figure as bytes: PNG for files, SVG fragments for inlining into the page.

SVG output is deterministic (a fixed hash salt, no date) and self-contained: the XML prologue, the
metadata block and namespace declarations (whose URLs browsers never fetch, but which would read like
external references) are removed, and every id is prefixed with the chart's name so that several charts
inlined into one page never share an id.
"""

from __future__ import annotations

import io
import re

import matplotlib
from matplotlib.figure import Figure

PNG_DPI = 150

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(xlink:href="#|href="#|url\(#)([^")]+)')


def figure_png(fig: Figure) -> bytes:
    """`fig` as a PNG."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=PNG_DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def figure_svg(fig: Figure, name: str) -> str:
    """`fig` as an ``<svg>`` element to inline in HTML; ids prefixed with ``chart-<name>-``."""
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": f"verbatim-{name}"}):
        fig.savefig(out, format="svg", facecolor="white", metadata={"Date": None})
    svg = out.getvalue().decode("utf-8")
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    svg = _XMLNS.sub("", svg)
    prefix = f"chart-{name}-"
    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    return svg.strip()
