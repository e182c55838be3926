"""Segments: one customer property's values, the small ones folded into "other".

A segment with fewer responses than the minimum is folded into `OTHER_SEGMENT`, whose summary lists the
values it holds. A value literally called "other" joins that group too, so one name never means two
groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.tally import Slice

OTHER_SEGMENT = "other"


@dataclass(frozen=True)
class Segment:
    """A group of responses sharing a value of the segment property (or folded into "other")."""

    name: str
    values: tuple[str, ...]
    counts: Slice


def fold(segments: Mapping[str, Slice], min_size: int) -> list[Segment]:
    """The segments with at least `min_size` responses, largest first (then by name), and then "other"
    holding the rest, if any."""
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise InvalidInput("min_segment_size", f"must be a whole number of at least 1, got {min_size!r}")
    kept: list[Segment] = []
    other = Slice()
    other_values: list[str] = []
    for value, part in segments.items():
        if part.overall.responses >= min_size and value != OTHER_SEGMENT:
            kept.append(Segment(value, (value,), part))
        else:
            other.absorb(part)
            other_values.append(value)
    kept.sort(key=lambda s: (-s.counts.overall.responses, s.name))
    if other_values:
        kept.append(Segment(OTHER_SEGMENT, tuple(sorted(other_values)), other))
    return kept
