"""Periods as people name them, against calendar facts written out by hand."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from verbatim.analytics import InvalidInput
from verbatim.analytics.period_names import parse_period, previous

UTC = timezone.utc


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("text, start, end", [
    ("2026-Q3", utc(2026, 7, 1), utc(2026, 10, 1)),
    ("2026q4", utc(2026, 10, 1), utc(2027, 1, 1)),
    ("2026-02", utc(2026, 2, 1), utc(2026, 3, 1)),
    ("2026", utc(2026, 1, 1), utc(2027, 1, 1)),
    ("2026-07-01..2026-07-01", utc(2026, 7, 1), utc(2026, 7, 2)),  # the end date is included
])
def test_named_periods_are_half_open_calendar_ranges(text: str, start: datetime, end: datetime) -> None:
    named = parse_period(text, UTC)
    assert (named.period.start, named.period.end) == (start, end)


@pytest.mark.parametrize("text, before", [
    ("2026-Q1", "2025-Q4"), ("2026-Q3", "2026-Q2"), ("2026-01", "2025-12"), ("2026", "2025"),
    ("2026-07-11..2026-07-20", "2026-07-01..2026-07-10"),  # ten days, the ten before
])
def test_previous_steps_back_by_the_same_kind(text: str, before: str) -> None:
    assert previous(parse_period(text, UTC), UTC) == parse_period(before, UTC)


def test_days_follow_the_time_zone_daylight_saving_included() -> None:
    paris = ZoneInfo("Europe/Paris")
    summer = parse_period("2026-07", paris).period
    assert summer.start.astimezone(UTC) == utc(2026, 6, 30, 22)  # CEST is UTC+2
    winter = parse_period("2026-01", paris).period
    assert winter.start.astimezone(UTC) == utc(2025, 12, 31, 23)  # CET is UTC+1


def test_labels_show_the_last_day_included() -> None:
    assert parse_period("2026-Q3", UTC).label == "2026-Q3 (2026-07-01 to 2026-09-30)"
    assert parse_period("2026-07-01..2026-07-03", UTC).label == "2026-07-01 to 2026-07-03"


@pytest.mark.parametrize("text, message", [
    ("2026-Q5", "'2026-Q5' is not a period"), ("2026-13", "month must be in 1..12"),
    ("2026-02-30..2026-03-01", "day is out of range"), ("last quarter", "is not a period"),
])
def test_bad_names_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_period(text, UTC, "--period")
    assert info.value.field == "--period" and message in info.value.message
