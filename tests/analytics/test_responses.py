"""Responses and periods: what is accepted, and that every refusal names its field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from verbatim.analytics import InvalidInput, Period, Response, Score, SurveyType
from verbatim.models.types import Sentiment

from tests.analytics.factories import MONDAY

NAIVE = datetime(2026, 3, 2, 12, 0)


def _field(**kwargs: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        Response(**{"time": MONDAY, **kwargs})  # type: ignore[arg-type]
    return caught.value.field


def test_a_complete_response() -> None:
    response = Response(time=MONDAY, text="Slack sync breaks", tags={"Slack", "Bug"},  # type: ignore[arg-type]
                        sentiment=Sentiment("negative", -0.7, {}), score=Score(3, SurveyType.NPS),
                        properties={"plan": "pro"})
    assert response.tags == frozenset({"Slack", "Bug"}) and response.has_comment
    with pytest.raises(TypeError):
        response.properties["plan"] = "free"  # type: ignore[index]


@pytest.mark.parametrize("text, commented", [(None, False), ("", False), ("  \n", False), ("ok", True)])
def test_blank_text_is_no_comment(text: str | None, commented: bool) -> None:
    assert Response(time=MONDAY, text=text).has_comment is commented


@pytest.mark.parametrize("kwargs, field", [
    ({"time": NAIVE}, "time"),
    ({"time": "2026-03-02"}, "time"),
    ({"tags": frozenset({"Bug"})}, "tags"),                       # no comment, so no tags
    ({"text": "  ", "tags": frozenset({"Bug"})}, "tags"),
    ({"text": "x", "tags": "Bug"}, "tags"),                        # one string is not a set of names
    ({"text": "x", "tags": frozenset({""})}, "tags"),
    ({"text": 42}, "text"),
    ({"text": "x", "sentiment": Sentiment("angry", -1.0, {})}, "sentiment.label"),
    ({"text": "x", "sentiment": Sentiment("negative", -1.5, {})}, "sentiment.score"),
    ({"text": "x", "sentiment": Sentiment("neutral", float("nan"), {})}, "sentiment.score"),
    ({"score": 9}, "score"),                                       # a bare int has no survey type
    ({"properties": {"plan": 3}}, "properties.plan"),
    ({"properties": {"": "x"}}, "properties"),
])
def test_invalid_responses_name_the_field(kwargs: dict[str, object], field: str) -> None:
    assert _field(**kwargs) == field


def test_a_period_is_half_open() -> None:
    period = Period(MONDAY, MONDAY + timedelta(days=7))
    assert MONDAY in period and MONDAY + timedelta(days=7) not in period
    assert MONDAY - timedelta(microseconds=1) not in period
    # the same instant in another offset is inside too
    assert MONDAY.astimezone(timezone(timedelta(hours=-5))) in period


def test_a_period_ending_before_it_starts_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        Period(MONDAY, MONDAY - timedelta(seconds=1))
    assert caught.value.field == "end"
    with pytest.raises(InvalidInput) as caught:
        Period.named("compare_to", MONDAY, MONDAY - timedelta(days=1))
    assert caught.value.field == "compare_to.end" and "before the start" in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        Period(NAIVE, MONDAY)  # type: ignore[arg-type]
    assert caught.value.field == "start"
