"""`write_report`: a summary into a folder as report.html, one chart-<name>.png per chart, and summary.json.

Every file is written atomically and report.html last, so a crash leaves either the earlier report or a
complete new one's files, never a page pointing at half a chart. Chart PNGs of an earlier run that this
summary no longer gets (say the segment chart, now without a segment property) are removed, so the folder
holds exactly one report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from verbatim.analytics.report import Summary
from verbatim.models.registry import atomic_write
from verbatim.analytics.render.chart_set import CHARTS, charts_for
from verbatim.analytics.render.export import figure_png, figure_svg
from verbatim.analytics.render.meta import ReportMeta
from verbatim.analytics.render.page import render_page
from verbatim.analytics.render.summary_json import write_summary_json

HTML_NAME = "report.html"
JSON_NAME = "summary.json"


def chart_file_name(name: str) -> str:
    """The PNG file of chart `name`."""
    return f"chart-{name}.png"


@dataclass(frozen=True)
class ReportFiles:
    """What `write_report` wrote: the page, the JSON and the chart PNGs (in page order)."""

    html: Path
    summary_json: Path
    charts: tuple[Path, ...]

    @property
    def all(self) -> tuple[Path, ...]:
        """Every file written."""
        return (self.html, self.summary_json, *self.charts)


def write_report(summary: Summary, out_dir: Path | str, meta: ReportMeta) -> ReportFiles:
    """Render `summary` into `out_dir` (created if missing) and return the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    svgs: dict[str, str] = {}
    pngs: list[Path] = []
    for spec in charts_for(summary):
        fig = spec.draw(summary)
        path = out / chart_file_name(spec.name)
        atomic_write(path, figure_png(fig))
        svgs[spec.name] = figure_svg(fig, spec.name)
        pngs.append(path)
    for spec in CHARTS:
        if spec.name not in svgs:
            (out / chart_file_name(spec.name)).unlink(missing_ok=True)
    json_path = write_summary_json(summary, out / JSON_NAME, meta)
    html_path = out / HTML_NAME
    atomic_write(html_path, render_page(summary, meta, svgs))
    return ReportFiles(html=html_path, summary_json=json_path, charts=tuple(pngs))
