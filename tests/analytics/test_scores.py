"""NPS, CSAT and CES on worked examples; the expected values are derived by hand in the comments."""

from __future__ import annotations

import pytest

from verbatim.analytics import InvalidInput, Score, ScoreMetrics, SurveyType, ces, csat, nps
from verbatim.analytics.scores import histogram


def test_nps_of_a_balanced_set_is_zero() -> None:
    # promoters 10, 9 (2); passives 8, 7; detractors 6, 0 (2): (2 - 2) / 6 = 0
    assert nps([10, 9, 8, 7, 6, 0]) == 0


def test_nps_worked_example_of_the_issue() -> None:
    # 350/500 = 70 % promoters, 50/500 = 10 % detractors: NPS 60
    scores = [3] * 50 + [8] * 100 + [10] * 350
    assert nps(scores) == pytest.approx(60)


@pytest.mark.parametrize("scores, expected", [
    ([0, 1, 2, 3, 4, 5, 6], -100),  # all detractors
    ([9, 10], 100),                  # all promoters
    ([7, 8], 0),                     # passives only
    ([9, 7, 7, 6], 0),               # (1 - 1) / 4
    ([10, 10, 10, 0], 50),           # (3 - 1) / 4 = 50
])
def test_nps_bounds_and_bands(scores: list[int], expected: float) -> None:
    assert nps(scores) == pytest.approx(expected)


def test_csat_is_the_share_of_four_and_five() -> None:
    # 5, 4, 5, 4, 4 are satisfied: 5 of 8 = 62.5 %
    assert csat([5, 4, 3, 2, 1, 5, 4, 4]) == pytest.approx(62.5)


def test_ces_is_the_mean_and_the_share_of_five_to_seven() -> None:
    # mean (7+6+5+4+3+2+1+7)/8 = 35/8 = 4.375; 7, 6, 5, 7 are 5-7: 4 of 8 = 50 %
    assert ces([7, 6, 5, 4, 3, 2, 1, 7]) == (pytest.approx(4.375), pytest.approx(50.0))


def test_empty_sets_have_no_metric() -> None:
    assert nps([]) is None and csat([]) is None and ces([]) is None
    empty = ScoreMetrics.from_histogram(SurveyType.NPS, [0] * 11)
    assert empty.scored == 0 and empty.mean is None and empty.promoters_pct is None


def test_split_counts_and_shares() -> None:
    metrics = ScoreMetrics.from_histogram(SurveyType.NPS, histogram(SurveyType.NPS, [10, 9, 8, 7, 7, 6, 0, 0]))
    # detractors 6, 0, 0 (3); passives 8, 7, 7 (3); promoters 10, 9 (2); of 8
    assert (metrics.detractors, metrics.passives, metrics.promoters) == (3, 3, 2)
    assert metrics.detractors_pct == pytest.approx(37.5) and metrics.promoters_pct == pytest.approx(25)
    assert metrics.value == pytest.approx(-12.5)  # 25 - 37.5
    assert metrics.mean == pytest.approx(47 / 8)


@pytest.mark.parametrize("survey, band_of", [
    (SurveyType.NPS, {0: 0, 6: 0, 7: 1, 8: 1, 9: 2, 10: 2}),
    (SurveyType.CSAT, {1: 0, 2: 0, 3: 1, 4: 2, 5: 2}),
    (SurveyType.CES, {1: 0, 3: 0, 4: 1, 5: 2, 7: 2}),
])
def test_band_boundaries(survey: SurveyType, band_of: dict[int, int]) -> None:
    assert {value: Score(value, survey).band for value in band_of} == band_of


@pytest.mark.parametrize("value, survey", [
    (11, SurveyType.NPS), (-1, SurveyType.NPS), (0, SurveyType.CSAT), (6, SurveyType.CSAT), (8, SurveyType.CES),
    (9.5, SurveyType.NPS), (True, SurveyType.NPS), ("9", SurveyType.NPS),
])
def test_a_score_off_its_scale_names_the_field(value: object, survey: SurveyType) -> None:
    with pytest.raises(InvalidInput) as caught:
        Score(value, survey)  # type: ignore[arg-type]
    assert caught.value.field == "score"
    assert isinstance(caught.value, ValueError)


def test_the_message_gives_the_range() -> None:
    with pytest.raises(InvalidInput, match="expected 1 to 7"):
        Score(0, SurveyType.CES)


def test_survey_types_parse_by_name_and_refuse_unknown_ones() -> None:
    assert SurveyType.parse(" NPS ") is SurveyType.NPS
    assert Score(4, "csat").survey_type is SurveyType.CSAT  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        SurveyType.parse("ces2")
    assert caught.value.field == "survey_type" and "nps, csat, ces" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        Score(4, "stars")  # type: ignore[arg-type]
    assert caught.value.field == "survey_type"
