"""The summary on a small hand-computed example: overall, per tag, impact, top tags, prior period.

The current period (NPS), numbered for the comments below:
  #1 10 Support    positive  0.8     #6  3 Bug         negative -0.9
  #2  9 Support    positive  0.6     #7  0 Bug, Slack  negative -1.0
  #3  9 Slack      neutral   0.0     #8  - Bug         negative -0.5   (commented, unscored)
  #4  8 (no comment)                 #9  6 (comment, no tag) neutral 0.0
  #5  7 Price      negative -0.4
9 responses, 8 commented (all but #4), 8 scored (all but #8).
Promoters #1 #2 #3, passives #4 #5, detractors #6 #7 #9: NPS = (3 - 3) / 8 = 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from verbatim.analytics import (Accumulator, InvalidInput, Period, SummaryOptions, SurveyType, summarize,
                                summarize_responses)

from tests.analytics.factories import MONDAY, TAXONOMY, response

CURRENT = [
    response(10, "Support", sentiment=("positive", 0.8)),
    response(9, "Support", sentiment=("positive", 0.6)),
    response(9, "Slack", sentiment=("neutral", 0.0)),
    response(8, text=None),
    response(7, "Price", sentiment=("negative", -0.4)),
    response(3, "Bug", sentiment=("negative", -0.9)),
    response(0, "Bug", "Slack", sentiment=("negative", -1.0)),
    response(None, "Bug", sentiment=("negative", -0.5)),
    response(6, text="ok", sentiment=("neutral", 0.0)),
]
# The prior period: 5 responses, all commented; promoters 10; detractors 0, 5, 3: NPS (1 - 3) / 5 = -40.
PRIOR = [response(10, "Bug"), response(0, "Bug"), response(8), response(5, "Price"), response(3, "Usability")]
OPTIONS = SummaryOptions(min_count=2)


def _summary() -> object:
    return summarize(Accumulator.of(CURRENT, TAXONOMY), Accumulator.of(PRIOR, TAXONOMY), OPTIONS)


def test_overall_figures() -> None:
    overall = summarize(Accumulator.of(CURRENT, TAXONOMY), options=OPTIONS).overall
    assert (overall.responses, overall.commented) == (9, 8)
    assert overall.score.survey_type is SurveyType.NPS and overall.score.scored == 8
    assert overall.score.value == 0
    assert (overall.score.promoters, overall.score.passives, overall.score.detractors) == (3, 2, 3)
    # sentiment on the 8 classified (#4 has none): 2 positive, 2 neutral, 4 negative;
    # mean (0.8 + 0.6 + 0 - 0.4 - 0.9 - 1.0 - 0.5 + 0) / 8 = -1.4 / 8; net (2 - 4) / 8 = -25
    assert overall.sentiment.classified == 8
    assert overall.sentiment.mean == pytest.approx(-0.175)
    assert overall.sentiment.net == pytest.approx(-25)
    assert overall.sentiment.negative_pct == pytest.approx(50)


def test_per_tag_figures() -> None:
    summary = summarize(Accumulator.of(CURRENT, TAXONOMY), options=OPTIONS)
    # most frequent first, ties by name; Integrations is there only through Slack
    assert [(t.name, t.count) for t in summary.tags] == [
        ("Bug", 3), ("Integrations", 2), ("Slack", 2), ("Support", 2), ("Price", 1)]
    bug = summary.current.tag("Bug")
    # #6 #7 #8: 3 of 8 commented; #8 is unscored, so the metric is on 3 and 0 alone: two detractors
    assert bug.share == pytest.approx(37.5)
    assert bug.score.scored == 2 and bug.score.detractors == 2 and bug.score.value == -100
    assert bug.sentiment.mean == pytest.approx(-0.8) and bug.sentiment.net == -100  # (-0.9 - 1.0 - 0.5) / 3
    slack, integrations = summary.current.tag("Slack"), summary.current.tag("Integrations")
    assert slack.parent == "Integrations" and integrations.parent is None
    # #3 (9) and #7 (0): (1 - 1) / 2 = 0
    assert integrations.score.value == slack.score.value == 0 and integrations.share == 25
    assert summary.current.tag("Support").score.value == 100
    assert summary.current.tag("Price").too_small and not bug.too_small  # 1 < min_count 2 <= 3


def test_impact_sorts_the_tags_that_drag_the_score_down_first() -> None:
    summary = summarize(Accumulator.of(CURRENT, TAXONOMY), options=OPTIONS)
    impact = {t.name: t.impact for t in summary.tags}
    # without Bug: 10 9 9 8 7 6 -> (3 - 1) / 6 = 33.3; impact = 0 - 33.3
    assert impact["Bug"] == pytest.approx(-100 / 3)
    # without Support: 9 8 7 3 0 6 -> (1 - 3) / 6 = -33.3; impact = 0 + 33.3
    assert impact["Support"] == pytest.approx(100 / 3)
    # without Integrations (#3, #7): 10 9 8 7 3 6 -> (2 - 2) / 6 = 0; without Price: (3 - 3) / 7 = 0
    assert impact["Integrations"] == 0 and impact["Price"] == 0
    assert [t.name for t in summary.by_impact] == ["Bug", "Integrations", "Price", "Slack", "Support"]


def test_a_tag_of_detractors_only_has_a_negative_impact() -> None:
    # Bug: 0 and 2, both detractors; untagged 10 and 9. NPS (2 - 2) / 4 = 0; without Bug 100: impact -100
    responses = [response(0, "Bug"), response(2, "Bug"), response(10), response(9)]
    (bug,) = summarize(Accumulator.of(responses, TAXONOMY)).by_impact
    assert bug.impact == -100


def test_impact_on_csat() -> None:
    # CSAT 1 2 (Price) 5 4 3: 2 of 5 satisfied = 40 %; without Price 2 of 3 = 66.7 %: impact -26.7 points
    responses = [response(1, "Price", survey=SurveyType.CSAT), response(2, "Price", survey=SurveyType.CSAT)]
    responses += [response(s, survey=SurveyType.CSAT) for s in (5, 4, 3)]
    summary = summarize(Accumulator.of(responses, TAXONOMY))
    assert summary.survey_type is SurveyType.CSAT and summary.overall.score.value == 40
    assert summary.current.tag("Price").impact == pytest.approx(40 - 200 / 3)


def test_a_tag_covering_every_scored_response_has_no_impact() -> None:
    summary = summarize(Accumulator.of([response(9, "Bug"), response(None, text="no score")], TAXONOMY))
    assert summary.current.tag("Bug").impact is None


def test_top_tags_among_detractors_and_promoters() -> None:
    summary = summarize(Accumulator.of(CURRENT, TAXONOMY), options=OPTIONS)
    # commented detractors #6 #7 #9 (3): Bug in #6 #7, Integrations and Slack in #7
    assert [(t.name, t.count, round(t.share, 2)) for t in summary.top_detractor_tags] == [
        ("Bug", 2, 66.67), ("Integrations", 1, 33.33), ("Slack", 1, 33.33)]
    # commented promoters #1 #2 #3 (3): Support in #1 #2, Integrations and Slack in #3
    assert [(t.name, t.count) for t in summary.top_promoter_tags] == [
        ("Support", 2), ("Integrations", 1), ("Slack", 1)]
    top_one = summarize(Accumulator.of(CURRENT, TAXONOMY), options=SummaryOptions(top=1))
    assert [t.name for t in top_one.top_detractor_tags] == ["Bug"]


def test_change_against_the_prior_period() -> None:
    summary = _summary()
    assert summary.prior.responses == 5 and summary.prior.score.value == -40
    assert summary.score_change == 40  # 0 - (-40)
    change = {t.name: t.change for t in summary.tags}
    # Bug: 2 of 5 = 40 % before, 37.5 % now: -2.5 points; NPS 0 before ((1 - 1) / 2), -100 now
    assert change["Bug"].prior_count == 2 and change["Bug"].share_points == pytest.approx(-2.5)
    assert change["Bug"].score_change == -100
    # Price: 20 % before, 12.5 % now: -7.5 points; NPS -100 (a 5) before, 0 (a 7) now
    assert change["Price"].share_points == pytest.approx(-7.5) and change["Price"].score_change == 100
    # Support is new: 0 % before; no prior NPS, so no score change
    assert change["Support"].prior_share == 0 and change["Support"].share_points == 25
    assert change["Support"].score_change is None
    # Usability was only in the prior period: reported with no responses now, 20 points down
    usability = summary.current.tag("Usability")
    assert usability.count == 0 and usability.change.share_points == pytest.approx(-20)
    assert usability.score.value is None and usability.change.score_change is None


def test_without_a_prior_period_there_is_no_change() -> None:
    summary = summarize(Accumulator.of(CURRENT, TAXONOMY))
    assert summary.prior is None and summary.score_change is None
    assert all(t.change is None for t in summary.tags)


def test_summarize_responses_routes_by_period() -> None:
    week = timedelta(days=7)
    before = [response(r.score.value if r.score else None, *r.tags, text=r.text, time=MONDAY - week)
              for r in [response(10, "Bug"), response(0, "Bug"), response(8), response(5, "Price"),
                        response(3, "Usability")]]
    ignored = [response(0, "Bug", time=MONDAY + 2 * week)]
    summary = summarize_responses(CURRENT + before + ignored, TAXONOMY, period=Period(MONDAY, MONDAY + week),
                                  compare_to=Period(MONDAY - week, MONDAY), options=OPTIONS)
    assert summary == _summary()


def test_unscored_responses_count_in_shares_only() -> None:
    # 3 commented: 2 unscored with Bug, 1 scored 10 without: Bug share 2/3, Bug has no NPS; NPS 100 on 1
    summary = summarize(Accumulator.of([response(None, "Bug"), response(None, "Bug"), response(10)], TAXONOMY))
    bug = summary.current.tag("Bug")
    assert bug.share == pytest.approx(200 / 3) and bug.score.scored == 0 and bug.score.value is None
    assert summary.overall.score.scored == 1 and summary.overall.score.value == 100


def test_mixed_survey_types_need_a_choice() -> None:
    responses = [response(10, "Bug"), response(1, "Bug", survey=SurveyType.CSAT), response(5, survey=SurveyType.CSAT)]
    with pytest.raises(InvalidInput) as caught:
        summarize(Accumulator.of(responses, TAXONOMY))
    assert caught.value.field == "survey_type" and "csat, nps" in caught.value.message
    # choosing CSAT: the NPS response counts in shares (Bug 2 of 3) but not in the metric (1 and 5: 50 %)
    summary = summarize(Accumulator.of(responses, TAXONOMY), options=SummaryOptions(survey_type="csat"))  # type: ignore[arg-type]
    assert summary.overall.score.value == 50 and summary.overall.score.scored == 2
    assert summary.current.tag("Bug").share == pytest.approx(200 / 3)


def test_nothing_scored_means_no_score_metrics() -> None:
    summary = summarize(Accumulator.of([response(None, "Bug", time=MONDAY)], TAXONOMY))
    assert summary.survey_type is None and summary.overall.score is None
    assert summary.current.tag("Bug").score is None and summary.top_detractor_tags == ()


def test_an_empty_accumulator_summarises_to_nothing() -> None:
    summary = summarize(Accumulator(TAXONOMY))
    assert summary.overall.responses == 0 and summary.tags == () and summary.trend == ()


def test_a_prior_period_on_another_taxonomy_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        summarize(Accumulator.of(CURRENT, TAXONOMY), Accumulator())
    assert caught.value.field == "taxonomy"


@pytest.mark.parametrize("name", ["min_count", "top"])
def test_option_minimums_name_the_field(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        SummaryOptions(**{name: 0})  # type: ignore[arg-type]
    assert caught.value.field == name


def test_times_in_other_offsets_land_in_their_utc_day() -> None:
    # 01:00 at UTC+3 on 3 March is 22:00 UTC on 2 March
    east = datetime(2026, 3, 3, 1, tzinfo=timezone(timedelta(hours=3)))
    (bucket,) = summarize(Accumulator.of([response(9, time=east)]),
                          options=SummaryOptions(granularity="day")).trend  # type: ignore[arg-type]
    assert str(bucket.start) == "2026-03-02"
