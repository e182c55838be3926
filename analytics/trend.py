"""Trend buckets: calendar days rolled up into days, ISO weeks or months.

A week is an ISO week: it starts on Monday. Days are those of the accumulator's time zone. Buckets run
from the first to the last bucket with data, with empty buckets kept in between so a chart's time axis
has no silent gaps. A bucket is whole: a week that starts before the period is labelled by its Monday.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import Enum

from verbatim.analytics.errors import parse_choice
from verbatim.analytics.tally import Slice


class Granularity(str, Enum):
    """The width of a trend bucket."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @classmethod
    def parse(cls, name: "str | Granularity", field: str = "granularity") -> "Granularity":
        """The granularity named `name`; `InvalidInput` on `field` when unknown."""
        return parse_choice(cls, name, field, "granularity")


def bucket_start(day: date, granularity: Granularity) -> date:
    """The first day of the bucket that holds `day`."""
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())  # Monday
    return day.replace(day=1)


def next_bucket(start: date, granularity: Granularity) -> date:
    """The first day of the bucket after the one starting on `start` (its exclusive end)."""
    if granularity is Granularity.DAY:
        return start + timedelta(days=1)
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def buckets(days: Mapping[date, Slice], granularity: Granularity) -> list[tuple[date, date, Slice]]:
    """``(start, end, slice)`` per bucket, in time order, end exclusive, empty buckets included."""
    if not days:
        return []
    merged: dict[date, Slice] = {}
    for day, part in days.items():
        start = bucket_start(day, granularity)
        target = merged.get(start)
        if target is None:
            target = merged[start] = Slice()
        target.absorb(part)
    out = []
    start, last = min(merged), max(merged)
    while start <= last:
        end = next_bucket(start, granularity)
        out.append((start, end, merged.get(start) or Slice()))
        start = end
    return out
