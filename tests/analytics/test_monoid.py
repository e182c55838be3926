"""Aggregation is a monoid (DESIGN §6): counting a stream in chunks and merging the parts gives exactly
the accumulator (and so the summary) of the whole, whatever the chunking and order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from verbatim.analytics import (Accumulator, InvalidInput, Response, Score, Summary, SummaryOptions, SurveyType,
                                summarize)
from verbatim.models.types import Sentiment

from tests.analytics.factories import TAXONOMY

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
OPTIONS = SummaryOptions(survey_type=SurveyType.NPS, min_count=2, min_segment_size=3)


@st.composite
def responses(draw: st.DrawFn) -> Response:
    text = draw(st.one_of(st.none(), st.sampled_from(["", "slow sync", "great support"])))
    commented = text is not None and text.strip() != ""
    tags = draw(st.frozensets(st.sampled_from(TAXONOMY.names), max_size=3)) if commented else frozenset()
    sentiment = draw(st.one_of(st.none(), st.builds(
        lambda label, score: Sentiment(label, score, {}), st.sampled_from(["negative", "neutral", "positive"]),
        st.floats(-1, 1, allow_nan=False))))
    survey = draw(st.sampled_from([SurveyType.NPS, SurveyType.NPS, SurveyType.CSAT]))
    low, high = survey.scale
    score = draw(st.one_of(st.none(), st.integers(low, high).map(lambda v: Score(v, survey))))
    plan = draw(st.sampled_from([None, "free", "pro", "enterprise"]))
    time = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 70)))
    return Response(time=time, text=text, tags=tags, sentiment=sentiment, score=score,
                    properties={"plan": plan} if plan else {})


def _count(items: list[Response]) -> Accumulator:
    return Accumulator.of(items, TAXONOMY, segment_by="plan")


def _outcome(current: Accumulator, prior: Accumulator | None = None) -> object:
    """The summary, or the field of the refusal (a set where no response has a plan is refused)."""
    try:
        return summarize(current, prior, OPTIONS)
    except InvalidInput as error:
        return error.field


def _chunks(items: list[Response], cuts: list[int]) -> list[list[Response]]:
    bounds = [0, *sorted(c % (len(items) + 1) for c in cuts), len(items)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=60, deadline=None)
@given(st.lists(responses(), max_size=40), st.lists(st.integers(0, 1000), max_size=5))
def test_merging_the_parts_of_any_split_gives_the_whole(items: list[Response], cuts: list[int]) -> None:
    whole = _count(items)
    parts = [_count(chunk) for chunk in _chunks(items, cuts)]
    merged = reduce(Accumulator.merge, parts, whole.empty())
    assert merged == whole
    assert _outcome(merged) == _outcome(whole)


@settings(max_examples=60, deadline=None)
@given(st.lists(responses(), max_size=15), st.lists(responses(), max_size=15), st.lists(responses(), max_size=15))
def test_merge_is_associative_and_commutative_with_an_identity(a: list[Response], b: list[Response],
                                                              c: list[Response]) -> None:
    x, y, z = _count(a), _count(b), _count(c)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert x.empty() + x == x == x + x.empty()


@settings(max_examples=40, deadline=None)
@given(st.lists(responses(), min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_order_never_changes_the_summary(items: list[Response], rng: object) -> None:
    shuffled = list(items)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    prior = Accumulator.of(items[: len(items) // 2], TAXONOMY)
    assert _outcome(_count(shuffled), prior) == _outcome(_count(items), prior)


@settings(max_examples=40, deadline=None)
@given(st.lists(responses(), max_size=40))
def test_a_summary_counts_every_response_once(items: list[Response]) -> None:
    summary = _outcome(_count(items))
    if summary == "segment_by":
        assert items and all("plan" not in r.properties for r in items)
        return
    assert isinstance(summary, Summary)
    assert summary.overall.responses == len(items)
    assert summary.overall.commented == sum(r.has_comment for r in items)
    assert sum(s.summary.figures.responses for s in summary.segments) == len(items)
    assert sum(b.summary.figures.responses for b in summary.trend) == len(items)
    nps_scored = sum(r.score is not None and r.score.survey_type is SurveyType.NPS for r in items)
    assert (summary.overall.score.scored if summary.overall.score else 0) == nps_scored
    for tag in summary.tags:
        # a child counts toward its parent: a tag's count is that of responses naming it or a descendant
        expected = sum(tag.name in TAXONOMY.close(set(r.tags)) for r in items)
        assert tag.count == expected
