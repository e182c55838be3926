"""Segments: small groups fold into "other"; an unknown property is refused by name."""

from __future__ import annotations

import pytest

from verbatim.analytics import MISSING_SEGMENT, OTHER_SEGMENT, Accumulator, InvalidInput, SummaryOptions, summarize
from verbatim.analytics.segments import fold

from tests.analytics.factories import TAXONOMY, response

RESPONSES = [
    response(10, "Bug", plan="enterprise"), response(10, plan="enterprise"), response(0, "Bug", plan="enterprise"),
    response(9, plan="pro"), response(6, "Price", plan="pro"),
    response(9, "Price", plan="free"),
    response(10),  # no plan at all
]


def test_small_segments_fold_into_other() -> None:
    summary = summarize(Accumulator.of(RESPONSES, TAXONOMY, segment_by="plan"),
                        options=SummaryOptions(min_segment_size=2, min_count=2))
    assert summary.segment_by == "plan"
    assert [(s.name, s.values, s.summary.figures.responses) for s in summary.segments] == [
        ("enterprise", ("enterprise",), 3), ("pro", ("pro",), 2),
        (OTHER_SEGMENT, (MISSING_SEGMENT, "free"), 2)]
    enterprise, pro, other = (s.summary for s in summary.segments)
    assert enterprise.figures.score.value == pytest.approx(100 / 3)  # 10, 10, 0: (2 - 1) / 3
    assert pro.figures.score.value == 0                              # 9, 6: (1 - 1) / 2
    assert other.figures.score.value == 100                          # 9, 10
    # Bug within enterprise: 2 of 3 commented, scores 10 and 0 -> NPS 0; impact 33.3 - 100 (10 alone)
    bug = enterprise.tag("Bug")
    assert bug.count == 2 and bug.share == pytest.approx(200 / 3) and bug.score.value == 0
    assert bug.impact == pytest.approx(100 / 3 - 100) and not bug.too_small
    assert other.tag("Price").too_small  # 1 response < min_count 2


def test_a_large_minimum_folds_everything() -> None:
    summary = summarize(Accumulator.of(RESPONSES, segment_by="plan"), options=SummaryOptions(min_segment_size=100))
    ((name, values, total),) = [(s.name, s.values, s.summary.figures.responses) for s in summary.segments]
    assert (name, values, total) == (OTHER_SEGMENT, (MISSING_SEGMENT, "enterprise", "free", "pro"), 7)


def test_a_value_called_other_joins_the_folded_group() -> None:
    responses = [response(9, plan="other")] * 5 + [response(0, plan="tiny")]
    segments = summarize(Accumulator.of(responses, segment_by="plan"), options=SummaryOptions(min_segment_size=2)).segments
    assert [(s.name, s.values, s.summary.figures.responses) for s in segments] == [
        (OTHER_SEGMENT, ("other", "tiny"), 6)]


def test_no_breakdown_without_a_property() -> None:
    assert summarize(Accumulator.of(RESPONSES)).segments == ()


def test_a_property_no_response_has_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        summarize(Accumulator.of(RESPONSES, segment_by="region"))
    assert caught.value.field == "segment_by" and "'region'" in caught.value.message


@pytest.mark.parametrize("size", [0, -1, True])
def test_a_minimum_below_one_names_the_field(size: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        fold({}, size)
    assert caught.value.field == "min_segment_size"
    with pytest.raises(InvalidInput):
        SummaryOptions(min_segment_size=size)
