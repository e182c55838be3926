"""Trend buckets: ISO weeks (Monday start), calendar months, empty buckets kept."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from verbatim.analytics import Accumulator, Granularity, InvalidInput, SummaryOptions, bucket_start, summarize
from verbatim.analytics.trend import next_bucket

from tests.analytics.factories import response


@pytest.mark.parametrize("day, granularity, start", [
    (date(2026, 3, 4), Granularity.WEEK, date(2026, 3, 2)),    # Wednesday -> its Monday
    (date(2026, 3, 8), Granularity.WEEK, date(2026, 3, 2)),    # Sunday ends the ISO week
    (date(2026, 3, 9), Granularity.WEEK, date(2026, 3, 9)),    # Monday starts the next one
    (date(2027, 1, 1), Granularity.WEEK, date(2026, 12, 28)),  # a week across the new year
    (date(2026, 12, 15), Granularity.MONTH, date(2026, 12, 1)),
    (date(2026, 2, 28), Granularity.DAY, date(2026, 2, 28)),
])
def test_bucket_start(day: date, granularity: Granularity, start: date) -> None:
    assert bucket_start(day, granularity) == start


def test_next_bucket_crosses_years_and_short_months() -> None:
    assert next_bucket(date(2026, 12, 1), Granularity.MONTH) == date(2027, 1, 1)
    assert next_bucket(date(2026, 2, 1), Granularity.MONTH) == date(2026, 3, 1)
    assert next_bucket(date(2026, 12, 28), Granularity.WEEK) == date(2027, 1, 4)
    assert next_bucket(date(2028, 2, 28), Granularity.DAY) == date(2028, 2, 29)


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc)


RESPONSES = [response(10, "Bug", time=_at(2)),   # Monday, week of 2 March
             response(0, "Bug", time=_at(8)),    # Sunday, same week
             response(9, time=_at(17))]          # Tuesday, week of 16 March; nothing in the week of 9 March


def test_weekly_buckets_keep_the_empty_week() -> None:
    trend = summarize(Accumulator.of(RESPONSES), options=SummaryOptions(granularity=Granularity.WEEK)).trend
    assert [(b.start, b.end) for b in trend] == [(date(2026, 3, 2), date(2026, 3, 9)),
                                               (date(2026, 3, 9), date(2026, 3, 16)),
                                               (date(2026, 3, 16), date(2026, 3, 23))]
    first, empty, last = (b.summary for b in trend)
    # week 1: 10 and 0 -> (1 - 1) / 2 = 0; Bug has both, so its share is 2 of 2 commented
    assert first.figures.responses == 2 and first.figures.score.value == 0
    assert first.tag("Bug").share == 100 and first.tag("Bug").score.value == 0
    assert empty.figures.responses == 0 and empty.figures.score.value is None and empty.tags == ()
    assert last.figures.score.value == 100


def test_daily_and_monthly_buckets() -> None:
    accumulator = Accumulator.of(RESPONSES)
    daily = summarize(accumulator, options=SummaryOptions(granularity="day")).trend  # type: ignore[arg-type]
    assert len(daily) == 16 and daily[0].start == date(2026, 3, 2) and daily[-1].start == date(2026, 3, 17)
    assert sum(b.summary.figures.responses for b in daily) == 3
    (month,) = summarize(accumulator, options=SummaryOptions(granularity=Granularity.MONTH)).trend
    # 10, 0, 9: (2 - 1) / 3
    assert (month.start, month.end) == (date(2026, 3, 1), date(2026, 4, 1))
    assert month.summary.figures.score.value == pytest.approx(100 / 3)


def test_an_unknown_granularity_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        SummaryOptions(granularity="year")  # type: ignore[arg-type]
    assert caught.value.field == "granularity"
