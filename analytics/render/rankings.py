"""The orderings the page leads with: what drags the score down, what moved since the prior period."""

from __future__ import annotations

from verbatim.analytics.report import Summary, TagSummary
from verbatim.analytics.render.labels import points_per_unit


def draggers(summary: Summary, limit: int | None = None) -> tuple[TagSummary, ...]:
    """Tags with a negative impact, the one that drags the score down most first."""
    down = tuple(t for t in summary.by_impact if t.impact is not None and t.impact < 0)
    return down if limit is None else down[:limit]


def movement(summary: Summary, tag: TagSummary) -> float:
    """How far a tag moved since the prior period, in points: the larger of its share change and its
    score change (a CES mean change scaled onto 0–100). A score change counts only when the tag had at
    least `min_count` responses in both periods, so that small samples do not top the list."""
    change = tag.change
    if change is None:
        return 0.0
    moves = [abs(change.share_points)] if change.share_points is not None else []
    comparable = not tag.too_small and change.prior_count >= summary.min_count
    if change.score_change is not None and comparable:
        moves.append(abs(change.score_change) * points_per_unit(summary.survey_type))
    return max(moves, default=0.0)


def movers(summary: Summary, limit: int | None = None) -> tuple[TagSummary, ...]:
    """Tags by `movement`, biggest first (then by name); empty without a prior period."""
    if summary.prior is None:
        return ()
    ranked = sorted((t for t in summary.tags if t.change is not None),
                    key=lambda t: (-movement(summary, t), t.name))
    return tuple(ranked if limit is None else ranked[:limit])
