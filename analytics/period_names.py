"""Periods as people name them: ``2026-Q3``, ``2026-07``, ``2026``, ``2026-07-01..2026-09-30`` (both dates
included), and ``previous`` (the period of the same kind just before another one).

Dates are calendar days in the given time zone; every period is half-open, ``[start, end)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.responses import Period

PREVIOUS = "previous"
_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
FORMATS = "2026-Q3, 2026-07, 2026 or 2026-07-01..2026-09-30"


@dataclass(frozen=True)
class NamedPeriod:
    """A period and the name it goes by in a report (``2026-Q3``)."""

    name: str
    period: Period
    kind: str  # quarter, month, year or range: what `previous` steps back by

    @property
    def label(self) -> str:
        """The name with its dates, end date included: ``2026-Q3 (2026-07-01 to 2026-09-30)``."""
        first, last = self.period.start.date(), (self.period.end - timedelta(days=1)).date()
        dates = f"{first.isoformat()} to {last.isoformat()}"
        return dates if self.kind == "range" else f"{self.name} ({dates})"


def parse_period(text: str, tz: tzinfo, field: str = "period") -> NamedPeriod:
    """The period named `text`; `InvalidInput` on `field` listing the formats when it is none of them."""
    spec = text.strip()
    if match := _QUARTER.fullmatch(spec):
        year, quarter = int(match[1]), int(match[2])
        start = date(year, 3 * quarter - 2, 1)
        return NamedPeriod(f"{year}-Q{quarter}", _days(start, _add_months(start, 3), tz), "quarter")
    if match := _MONTH.fullmatch(spec):
        start = _date(int(match[1]), int(match[2]), 1, spec, field)
        return NamedPeriod(spec, _days(start, _add_months(start, 1), tz), "month")
    if match := _YEAR.fullmatch(spec):
        year = int(match[1])
        return NamedPeriod(spec, _days(date(year, 1, 1), date(year + 1, 1, 1), tz), "year")
    if match := _RANGE.fullmatch(spec):
        first, last = (_iso_date(part, spec, field) for part in (match[1], match[2]))
        if last < first:
            raise InvalidInput(field, f"{spec!r} ends before it starts")
        return NamedPeriod(spec, _days(first, last + timedelta(days=1), tz), "range")
    raise InvalidInput(field, f"{text!r} is not a period; use {FORMATS}")


def previous(named: NamedPeriod, tz: tzinfo) -> NamedPeriod:
    """The period of the same kind just before `named`: the previous quarter, month or year, or for a range
    the same number of days before it."""
    start = named.period.start.date()
    if named.kind == "quarter":
        first = _add_months(start, -3)
        return parse_period(f"{first.year}-Q{(first.month - 1) // 3 + 1}", tz)
    if named.kind == "month":
        return parse_period(_add_months(start, -1).strftime("%Y-%m"), tz)
    if named.kind == "year":
        return parse_period(str(start.year - 1), tz)
    days = (named.period.end.date() - start).days
    first, last = start - timedelta(days=days), start - timedelta(days=1)
    return parse_period(f"{first.isoformat()}..{last.isoformat()}", tz)


def _days(first: date, end: date, tz: tzinfo) -> Period:
    return Period(datetime.combine(first, time(), tz), datetime.combine(end, time(), tz))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _date(year: int, month: int, day: int, spec: str, field: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(field, f"{spec!r}: {exc}") from None


def _iso_date(text: str, spec: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(field, f"{spec!r}: {exc}") from None
