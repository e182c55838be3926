"""The tables behind the charts, and the comparison tables the page leads with, as HTML.

Tags flagged `too_small` have their name greyed (class "small"); the page explains it once.
"""

from __future__ import annotations

from verbatim.analytics.report import Summary, TagSummary, TopTag
from verbatim.analytics.render.chart_trend import bucket_label, in_bucket, trend_tags
from verbatim.analytics.render.html_parts import Cell, esc, num, table
from verbatim.analytics.render.labels import (band_names, change_text, count, metric_name, pct, score_text, signed,
                                              tag_label, unit_name)
from verbatim.analytics.render.rankings import movers


def _name(tag: TagSummary) -> Cell:
    return Cell(tag_label(tag), "tag small" if tag.too_small else "tag")


def _score(summary: Summary, tag: TagSummary) -> Cell:
    value = tag.score.value if tag.score is not None else None
    return num(score_text(value, summary.survey_type))


def impact_table(summary: Summary, tags: tuple[TagSummary, ...] | None = None) -> str:
    """Tags by impact (most negative first): responses, share, score and impact."""
    metric = metric_name(summary.survey_type)
    digits = 2 if summary.survey_type is not None and metric == "CES mean" else 1
    rows = [[_name(t), num(count(t.count)), num(pct(t.share, 1)), _score(summary, t),
             num("–" if t.impact is None else signed(t.impact, digits), t.impact)]
            for t in (summary.by_impact if tags is None else tags)]
    return table(["Tag", num("Responses"), num("Share"), num(metric),
                  num(f"Impact ({unit_name(summary.survey_type)})")], rows)


def share_table(summary: Summary) -> str:
    """Tags by count: responses, share of commented responses, score and net sentiment."""
    headers = ["Tag", num("Responses"), num("Share of commented")]
    if summary.survey_type is not None:
        headers.append(num(metric_name(summary.survey_type)))
    headers.append(num("Net sentiment"))
    rows = []
    for t in summary.tags:
        row = [_name(t), num(count(t.count)), num(pct(t.share, 1))]
        if summary.survey_type is not None:
            row.append(_score(summary, t))
        row.append(num("–" if t.sentiment.net is None else signed(t.sentiment.net, 0), t.sentiment.net))
        rows.append(row)
    return table(headers, rows)


def bands_table(summary: Summary) -> str:
    """Per tag: scored responses and the % in each band of the survey's scale."""
    assert summary.survey_type is not None
    names = band_names(summary.survey_type)
    rows = []
    for t in summary.tags:
        s = t.score
        rows.append([_name(t), num(count(s.scored if s else 0)), num(pct(s.detractors_pct if s else None)),
                     num(pct(s.passives_pct if s else None)), num(pct(s.promoters_pct if s else None)),
                     _score(summary, t)])
    return table(["Tag", num("Scored"), num(names[0]), num(names[1]), num(names[2]),
                  num(metric_name(summary.survey_type))], rows)


def sentiment_table(summary: Summary) -> str:
    """Per tag: classified comments, the negative/neutral/positive split, net and mean sentiment."""
    rows = []
    for t in summary.tags:
        s = t.sentiment
        rows.append([_name(t), num(count(s.classified)), num(pct(s.negative_pct)), num(pct(s.neutral_pct)),
                     num(pct(s.positive_pct)), num("–" if s.net is None else signed(s.net, 0), s.net),
                     num("–" if s.mean is None else signed(s.mean, 2))])
    return table(["Tag", num("Classified"), num("Negative"), num("Neutral"), num("Positive"), num("Net"),
                  num("Mean (−1…1)")], rows)


def trend_table(summary: Summary) -> str:
    """Per bucket: responses, everyone's score, and each top tag's share (and score)."""
    tags = trend_tags(summary)
    scored = summary.survey_type is not None
    metric = metric_name(summary.survey_type)
    headers: list[str | Cell] = [summary.granularity.value.capitalize(), num("Responses")]
    if scored:
        headers.append(num(metric))
    headers += [num(tag_label(t) + (f" (share · {metric})" if scored else " (share)")) for t in tags]
    rows = []
    for bucket in summary.trend:
        figures = bucket.summary.figures
        row: list[str | Cell] = [Cell(bucket_label(bucket.start, summary.granularity), "nowrap"),
                                 num(count(figures.responses))]
        if scored:
            row.append(num(score_text(figures.score.value if figures.score else None, summary.survey_type)))
        for tag in tags:
            here = in_bucket(bucket, tag.name)
            if here is None:
                row.append(num("–"))
                continue
            text = pct(here.share)
            if scored:
                text += " · " + score_text(here.score.value if here.score else None, summary.survey_type)
            row.append(Cell(text, "num small" if here.too_small else "num"))
        rows.append(row)
    return table(headers, rows)


def segments_table(summary: Summary) -> str:
    """Per tag and segment: the tag's score (or share, without scores) and its count there."""
    scored = summary.survey_type is not None
    headers: list[str | Cell] = ["Tag"] + [num(s.name) for s in summary.segments]
    overall: list[str | Cell] = [Cell("All responses", "tag total")]
    for s in summary.segments:
        f = s.summary.figures
        value = score_text(f.score.value if f.score else None, summary.survey_type) if scored else ""
        overall.append(num(f"{value} (n={count(f.responses)})".strip()))
    rows = [overall]
    for t in summary.tags:
        row: list[str | Cell] = [_name(t)]
        for s in summary.segments:
            try:
                here = s.summary.tag(t.name)
            except KeyError:
                row.append(num("–"))
                continue
            value = (score_text(here.score.value if here.score else None, summary.survey_type) if scored
                     else pct(here.share))
            row.append(Cell(f"{value} (n={count(here.count)})", "num small" if here.too_small else "num"))
        rows.append(row)
    return table(headers, rows)


def changes_table(summary: Summary) -> str:
    """Tags by how far they moved since the prior period: share and score, then and now."""
    metric = metric_name(summary.survey_type)
    headers: list[str | Cell] = ["Tag", num("Responses"), num("Prior"), num("Share"), num("Share change (pts)")]
    if summary.survey_type is not None:
        headers += [num(metric), num(f"Prior {metric}"), num(f"Change ({unit_name(summary.survey_type)})")]
    rows = []
    for t in movers(summary):
        c = t.change
        assert c is not None
        row: list[str | Cell] = [_name(t), num(count(t.count)), num(count(c.prior_count)), num(pct(t.share, 1)),
                                 num("–" if c.share_points is None else signed(c.share_points, 1), None)]
        if summary.survey_type is not None:
            row += [_score(summary, t), num(score_text(c.prior_score, summary.survey_type)),
                    num(change_text(c.score_change, summary.survey_type), c.score_change)]
        rows.append(row)
    return table(headers, rows)


def top_tags_table(tags: tuple[TopTag, ...], band: str, labels: dict[str, str]) -> str:
    """The most mentioned tags within one band of respondents."""
    rows = [[Cell(labels.get(t.name, t.name), "tag"), num(count(t.count)), num(pct(t.share))] for t in tags]
    return table(["Tag", num("Respondents"), num("Share")], rows)


def caption(text: str) -> str:
    """A short explanatory line under a table."""
    return f'<p class="note">{esc(text)}</p>'
