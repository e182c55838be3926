"""The page's opening: the headline figures (KPI cards) and the four answers a CX lead looks for first."""

from __future__ import annotations

from verbatim.analytics.report import Summary, TopTag
from verbatim.analytics.render.html_parts import esc
from verbatim.analytics.render.labels import (band_names, change_text, count, metric_name, pct, score_text, signed,
                                              tag_label)
from verbatim.analytics.render.meta import ReportMeta
from verbatim.analytics.render.rankings import draggers, movers
from verbatim.analytics.scores import SurveyType

GLANCE_ITEMS = 3


def _chip(text: str, value: float | None) -> str:
    tone = "" if value is None or abs(value) < 1e-9 else (" pos" if value > 0 else " neg")
    return f'<span class="chip{tone}">{esc(text)}</span>'


def _kpi(label: str, value: str, detail: str = "") -> str:
    return (f'<div class="card kpi"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
            f'<div class="detail">{detail}</div></div>')


def kpi_cards(summary: Summary, meta: ReportMeta) -> str:
    """The headline score and its change, responses, comments and net sentiment."""
    overall = summary.overall
    cards = []
    if summary.survey_type is not None and overall.score is not None:
        metric = metric_name(summary.survey_type)
        detail = f"{esc(count(overall.score.scored))} scored responses"
        if summary.prior is not None and summary.prior.score is not None:
            arrow = "" if not summary.score_change else ("▲ " if summary.score_change > 0 else "▼ ")
            detail = (_chip(arrow + change_text(summary.score_change, summary.survey_type), summary.score_change)
                      + f" vs {esc(meta.prior_period or 'the prior period')} "
                      + f"({esc(score_text(summary.prior.score.value, summary.survey_type))})")
        cards.append(_kpi(metric, score_text(overall.score.value, summary.survey_type), detail))
    prior_n = f" (prior: {esc(count(summary.prior.responses))})" if summary.prior is not None else ""
    cards.append(_kpi("Responses", count(overall.responses), f"in {esc(meta.period)}{prior_n}"))
    commented_pct = 100.0 * overall.commented / overall.responses if overall.responses else None
    cards.append(_kpi("With a comment", count(overall.commented), f"{esc(pct(commented_pct))} of responses"))
    net = overall.sentiment.net
    cards.append(_kpi("Net sentiment", "–" if net is None else signed(net, 0),
                      f"% positive − % negative of {esc(count(overall.sentiment.classified))} comments"))
    return '<section class="cards kpis" aria-label="Headline figures">' + "".join(cards) + "</section>"


def _card(title: str, items: list[str], empty: str) -> str:
    body = ("<ol>" + "".join(f"<li>{i}</li>" for i in items) + "</ol>") if items else f'<p class="empty">{esc(empty)}</p>'
    return f'<div class="card"><h3>{esc(title)}</h3>{body}</div>'


def _fig(text: str, line: bool = False) -> str:
    return f'<span class="fig{" line" if line else ""}">{esc(text)}</span>'


def _top_items(tags: tuple[TopTag, ...], labels: dict[str, str]) -> list[str]:
    return [f"{esc(labels.get(t.name, t.name))} {_fig(pct(t.share))}" for t in tags[:GLANCE_ITEMS]]


def glance_cards(summary: Summary, meta: ReportMeta) -> str:
    """What drags the score down, what changed, and why people do and don't recommend."""
    labels = {t.name: tag_label(t) for t in summary.tags}
    survey = summary.survey_type
    cards = []
    if survey is not None:
        unit = "pts" if survey is not SurveyType.CES else ""
        down = [f"{esc(tag_label(t))} {_fig(change_text(t.impact, survey) + (' ' + unit if unit else ''))}"
                for t in draggers(summary, GLANCE_ITEMS)]
        cards.append(_card(f"Drags the {metric_name(survey)} down most", down, "No tag pulls the score down."))
    if summary.prior is not None:
        moved = []
        for t in movers(summary, GLANCE_ITEMS):
            c = t.change
            assert c is not None
            parts = [f"share {signed(c.share_points, 1)} pts" if c.share_points is not None else "share –"]
            if survey is not None and c.score_change is not None:
                parts.append(f"{metric_name(survey)} {change_text(c.score_change, survey)}")
            moved.append(f"{esc(tag_label(t))} {_fig(', '.join(parts), line=True)}")
        cards.append(_card(f"Changed most since {meta.prior_period or 'the prior period'}", moved,
                           "No tags to compare."))
    if survey is not None:
        bottom, _, top = band_names(survey)
        cards.append(_card(f"Top tags · {bottom}", _top_items(summary.top_detractor_tags, labels),
                           "None of them left a tagged comment."))
        cards.append(_card(f"Top tags · {top}", _top_items(summary.top_promoter_tags, labels),
                           "None of them left a tagged comment."))
    if not cards:
        return ""
    return '<section class="cards glance" aria-label="At a glance">' + "".join(cards) + "</section>"
