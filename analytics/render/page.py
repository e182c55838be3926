"""The report page: one self-contained HTML file (inline CSS, inline SVG charts, no script, no network).

`render_page` only assembles: it takes the charts already drawn as SVG fragments (see `files.py`), so
that the page and the PNG files show the very same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from verbatim.analytics.report import Summary
from verbatim.analytics.render import tables
from verbatim.analytics.render.glance import glance_cards, kpi_cards
from verbatim.analytics.render.html_parts import esc
from verbatim.analytics.render.labels import band_names, metric_name, tag_label, too_small_note
from verbatim.analytics.render.meta import ReportMeta
from verbatim.analytics.render.page_style import CSS


@dataclass(frozen=True)
class Section:
    """How the page presents one chart: heading, one line on how to read it, and the table behind it."""

    heading: Callable[[Summary], str]
    lead: Callable[[Summary], str]
    table: Callable[[Summary], str]


def _metric(summary: Summary) -> str:
    return metric_name(summary.survey_type)


SECTIONS: dict[str, Section] = {
    "impact": Section(
        lambda s: f"What drags the {_metric(s)} down most",
        lambda s: (f"Impact = the overall {_metric(s)} minus the {_metric(s)} it would have without the tag's "
                   f"responses. Negative: the tag pulls the score down (removing its responses would raise "
                   f"it). Most negative first."),
        tables.impact_table),
    "share": Section(
        lambda s: "What customers talk about",
        lambda s: ("Each tag's share of the responses with a comment (a response can carry several tags, and "
                   "a child tag also counts toward its parent)"
                   + (f"; the colour is the tag's {_metric(s)}." if s.survey_type else ".")),
        tables.share_table),
    "bands": Section(
        lambda s: "Who mentions each tag",
        lambda s: ("The split of each tag's scored responses: " +
                   ", ".join(band_names(s.survey_type)) + "." if s.survey_type else ""),
        tables.bands_table),
    "sentiment": Section(
        lambda s: "How customers feel about each tag",
        lambda s: "Net sentiment of the comments: % positive minus % negative, from −100 to +100.",
        tables.sentiment_table),
    "trend": Section(
        lambda s: f"Trend of the top tags by {s.granularity.value}",
        lambda s: ("Share of each bucket's commented responses" +
                   (f", and the tags' {_metric(s)} against everyone's." if s.survey_type else ".")),
        tables.trend_table),
    "segments": Section(
        lambda s: f"How segments differ by {s.segment_by}",
        lambda s: ((f"The {_metric(s)} of each tag's responses within each {s.segment_by}"
                    if s.survey_type else f"Each tag's share of commented responses within each {s.segment_by}")
                   + f"; segments under the minimum size are folded into “other”."),
        tables.segments_table),
}


def _header(meta: ReportMeta) -> str:
    compared = f" compared with {esc(meta.prior_period)}" if meta.prior_period else ""
    facts = [("Source", meta.source), ("Model", meta.model_version), ("Generated", _when(meta))]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    return (f'<header class="masthead"><h1>{esc(meta.title)}</h1>'
            f'<p class="sub">{esc(meta.account)} · {esc(meta.period)}{compared}</p>'
            f'<dl class="meta">{items}</dl></header>')


def _when(meta: ReportMeta) -> str:
    return meta.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()


def _chart_section(name: str, summary: Summary, svg: str) -> str:
    section = SECTIONS[name]
    heading = section.heading(summary)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{esc(heading)}" ', 1)
    return (f'<section class="block" id="{esc(name)}"><h2>{esc(heading)}</h2>'
            f'<p class="lead">{esc(section.lead(summary))}</p>'
            f'<figure class="chart" data-chart="{esc(name)}">{svg}</figure>'
            f'<div class="scroll">{section.table(summary)}</div></section>')


def _changes_section(summary: Summary, meta: ReportMeta) -> str:
    if summary.prior is None or not summary.tags:
        return ""
    prior = meta.prior_period or "the prior period"
    return (f'<section class="block" id="changes"><h2>What changed since {esc(prior)}</h2>'
            f'<p class="lead">Share change in percentage points of commented responses; score change in '
            f'{esc(_metric(summary))} units. Sorted by the bigger of the two moves (a CES change is scaled onto '
            f'0–100); a score change counts only for tags with at least {summary.min_count} responses in both '
            f'periods.</p><div class="scroll">{tables.changes_table(summary)}</div></section>')


def _top_section(summary: Summary) -> str:
    if summary.survey_type is None:
        return ""
    bottom, _, top = band_names(summary.survey_type)
    labels = {t.name: tag_label(t) for t in summary.tags}
    return ('<section class="block" id="why"><h2>Why people do and don’t recommend</h2>'
            '<p class="lead">The tags mentioned most by each band of respondents; share = % of that band’s '
            'respondents who left a comment.</p><div class="pair">'
            f'<div><h3>{esc(bottom)}</h3>{tables.top_tags_table(summary.top_detractor_tags, bottom, labels)}</div>'
            f'<div><h3>{esc(top)}</h3>{tables.top_tags_table(summary.top_promoter_tags, top, labels)}</div>'
            '</div></section>')


def render_page(summary: Summary, meta: ReportMeta, svgs: Mapping[str, str]) -> str:
    """The whole report.html: header, headline figures, answers at a glance, then one section per chart
    in `svgs` (chart name → inline ``<svg>``, in page order) with the table behind it."""
    body = [_header(meta), kpi_cards(summary, meta), glance_cards(summary, meta)]
    names = list(svgs)
    first = names[:1] if names[:1] == ["impact"] else []
    body += [_chart_section(n, summary, svgs[n]) for n in first]
    body.append(_changes_section(summary, meta))
    body.append(_top_section(summary))
    body += [_chart_section(n, summary, svgs[n]) for n in names[len(first):]]
    if any(t.too_small for t in summary.tags):
        body.append(f'<p class="note">Grey tag names and faded, hatched bars: {esc(too_small_note(summary))}.</p>')
    body.append(f"<footer>{esc(meta.title)} · {esc(meta.account)} · generated by verbatim "
                f"{esc(meta.model_version)} on {esc(_when(meta))}</footer>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(meta.title)} · {esc(meta.account)} · {esc(meta.period)}</title>"
            f"<style>{CSS}</style></head><body><main class=\"report\">"
            + "".join(body) + "</main></body></html>\n")
