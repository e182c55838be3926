"""Small summaries for the render tests, built from responses with known, hand-countable figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.analytics.factories import MONDAY, TAXONOMY, response
from verbatim.analytics import Period, Response, Summary, SummaryOptions, SurveyType, summarize_responses
from verbatim.analytics.render import ReportMeta

PRIOR_MONDAY = MONDAY - timedelta(days=28)
CURRENT = Period(MONDAY - timedelta(days=7), MONDAY + timedelta(days=28))
PRIOR = Period(PRIOR_MONDAY - timedelta(days=7), MONDAY - timedelta(days=7))
SCORES = {SurveyType.NPS: (10, 9, 7, 3), SurveyType.CSAT: (5, 4, 3, 1), SurveyType.CES: (7, 6, 4, 2)}


def meta(prior: bool = True, account: str = "Acme") -> ReportMeta:
    """A report's facts, fixed so output is reproducible."""
    return ReportMeta(title="Feedback", account=account, model_version="m-1", source="responses.jsonl",
                      period="March", prior_period="February" if prior else None,
                      generated_at=datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc))


def responses(survey: SurveyType | None = SurveyType.NPS, *, prior: bool = True, weeks: int = 2,
              tags: tuple[str, ...] = ("Bug", "Slack", "Price", "Support")) -> list[Response]:
    """Per week and plan: one response per (tag, score) pair plus two untagged ones; `prior` adds a
    smaller prior period. Scores come from `SCORES` (None: unscored)."""
    scores = SCORES[survey] if survey is not None else (None, None, None, None)
    kind = survey or SurveyType.NPS
    out = []
    for week in range(weeks):
        for plan in ("free", "pro"):
            time = MONDAY + timedelta(days=7 * week)
            for i, score in enumerate(scores):
                for tag in tags[i % max(len(tags), 1):][:2]:
                    out.append(response(score, tag, survey=kind, time=time, plan=plan,
                                        sentiment=("negative", -0.5) if i >= 2 else ("positive", 0.6)))
            out.append(response(scores[0], survey=kind, time=time, plan=plan))
            out.append(response(scores[-1], text=None, survey=kind, time=time, plan=plan))
    if prior:
        for i, score in enumerate(scores):
            out.append(response(score, *tags[:1], survey=kind, time=PRIOR_MONDAY, plan="free"))
    return out


def summary(survey: SurveyType | None = SurveyType.NPS, *, prior: bool = True, segments: bool = True,
            weeks: int = 2, tags: tuple[str, ...] = ("Bug", "Slack", "Price", "Support"),
            min_count: int = 3) -> Summary:
    """The summary of `responses(...)` over `CURRENT` (and `PRIOR`), by plan when `segments`."""
    return summarize_responses(
        responses(survey, prior=prior, weeks=weeks, tags=tags), TAXONOMY, period=CURRENT,
        compare_to=PRIOR if prior else None, segment_by="plan" if segments else None,
        options=SummaryOptions(survey_type=survey, min_count=min_count, min_segment_size=1))


def expected_tags(tags: tuple[str, ...]) -> set[str]:
    """The tags a summary of `tags` has: those, plus the parents of children (Slack → Integrations)."""
    parents = {t.name: t.parent for t in TAXONOMY.tags}
    return set(tags) | {parents[t] for t in tags if parents.get(t)}
