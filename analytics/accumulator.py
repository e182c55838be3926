"""The accumulator: the counts behind a summary, built one response at a time.

Aggregation is a monoid (DESIGN §6): `Accumulator.empty()` is the identity and `merge` is associative
and commutative, so a stream can be cut into chunks, each chunk counted apart (in another task, on
another replica) and the parts merged into exactly the accumulator of the whole. No response is kept:
memory grows with the number of tags × days in the data × values of the segment property, never with
the number of responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timezone, tzinfo

from verbatim.models.taxonomy import Taxonomy

from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.responses import Response
from verbatim.analytics.tally import Slice

MISSING_SEGMENT = "(not set)"
"""The segment of responses that lack the segment property."""


class Accumulator:
    """Counts of responses: in total, per calendar day (for trends) and per segment value.

    - `taxonomy` closes each response's tags over their ancestors, so a child counts toward its parent;
      a tag it does not know is refused (`InvalidInput` on ``tags``). Without a taxonomy tags are flat.
    - `segment_by` names the customer property to break the responses down by (None: no breakdown).
    - `tz` is the time zone whose calendar days the trend buckets follow (UTC by default).

    Two accumulators merge only when these three agree.
    """

    __slots__ = ("taxonomy", "segment_by", "tz", "total", "days", "segments", "_closure")

    def __init__(self, taxonomy: Taxonomy | None = None, *, segment_by: str | None = None,
                 tz: tzinfo = timezone.utc) -> None:
        if segment_by is not None and (not isinstance(segment_by, str) or not segment_by.strip()):
            raise InvalidInput("segment_by", "must be a non-empty property name")
        self.taxonomy = taxonomy
        self.segment_by = segment_by
        self.tz = tz
        self.total = Slice()
        self.days: dict[date, Slice] = {}
        self.segments: dict[str, Slice] = {}
        self._closure: dict[str, frozenset[str]] = {}

    @classmethod
    def of(cls, responses: Iterable[Response], taxonomy: Taxonomy | None = None, *,
           segment_by: str | None = None, tz: tzinfo = timezone.utc) -> "Accumulator":
        """The accumulator of `responses`."""
        accumulator = cls(taxonomy, segment_by=segment_by, tz=tz)
        for response in responses:
            accumulator.add(response)
        return accumulator

    def empty(self) -> "Accumulator":
        """The identity of `merge` for accumulators like this one: same settings, nothing counted."""
        return Accumulator(self.taxonomy, segment_by=self.segment_by, tz=self.tz)

    def add(self, response: Response) -> None:
        """Count one response (in place)."""
        tags = self._close(response.tags)
        self.total.add(response, tags)
        day = response.time.astimezone(self.tz).date()
        day_slice = self.days.get(day)
        if day_slice is None:
            day_slice = self.days[day] = Slice()
        day_slice.add(response, tags)
        if self.segment_by is not None:
            value = response.properties.get(self.segment_by, MISSING_SEGMENT)
            segment = self.segments.get(value)
            if segment is None:
                segment = self.segments[value] = Slice()
            segment.add(response, tags)

    def merge(self, other: "Accumulator") -> "Accumulator":
        """A new accumulator counting the responses of both; neither operand changes."""
        self._check_compatible(other)
        out = self.empty()
        for source in (self, other):
            out.total.absorb(source.total)
            for target, parts in ((out.days, source.days), (out.segments, source.segments)):
                for key, part in parts.items():
                    mine = target.get(key)
                    if mine is None:
                        mine = target[key] = Slice()
                    mine.absorb(part)
        return out

    def __add__(self, other: "Accumulator") -> "Accumulator":
        return self.merge(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Accumulator):
            return NotImplemented
        return (self.taxonomy == other.taxonomy and self.segment_by == other.segment_by and self.tz == other.tz
                and self.total == other.total and self.days == other.days and self.segments == other.segments)

    def __repr__(self) -> str:
        return (f"Accumulator(responses={self.total.overall.responses}, days={len(self.days)}, "
                f"segment_by={self.segment_by!r}, segments={len(self.segments)})")

    def _check_compatible(self, other: "Accumulator") -> None:
        if self.taxonomy != other.taxonomy:
            raise InvalidInput("taxonomy", "cannot merge accumulators built on different taxonomies")
        if self.segment_by != other.segment_by:
            raise InvalidInput("segment_by", f"cannot merge a breakdown by {self.segment_by!r} "
                                             f"with one by {other.segment_by!r}")
        if self.tz != other.tz:
            raise InvalidInput("tz", f"cannot merge days in {self.tz} with days in {other.tz}")

    def _close(self, tags: frozenset[str]) -> frozenset[str]:
        if self.taxonomy is None or not tags:
            return tags
        closed = self._closure.get(tags)  # a few distinct tag sets recur across many responses
        if closed is None:
            for tag in tags:
                if tag not in self.taxonomy:
                    raise InvalidInput("tags", f"unknown tag {tag!r}: not in the account's taxonomy")
            closed = self._closure[tags] = frozenset(self.taxonomy.close(set(tags)))
        return closed
