"""The accumulator: tags closed over their parents, counts only, merging and its refusals."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from verbatim.analytics import Accumulator, InvalidInput, MISSING_SEGMENT
from verbatim.models.taxonomy import Tag, Taxonomy

from tests.analytics.factories import TAXONOMY, response


def test_a_child_counts_toward_its_parent_once() -> None:
    accumulator = Accumulator.of([response(9, "Slack"), response(0, "Slack", "Integrations"),
                                  response(7, "Integrations"), response(10, "Bug")], TAXONOMY)
    tags = accumulator.total.tags
    # Integrations: responses 1 (via Slack), 2 (once, though named twice), 3
    assert tags["Integrations"].responses == 3
    assert tags["Slack"].responses == 2
    assert tags["Bug"].responses == 1 and set(tags) == {"Integrations", "Slack", "Bug"}


def test_without_a_taxonomy_tags_are_flat() -> None:
    accumulator = Accumulator.of([response(9, "Slack")])
    assert set(accumulator.total.tags) == {"Slack"}


def test_an_unknown_tag_names_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        Accumulator(TAXONOMY).add(response(9, "Pricing"))
    assert caught.value.field == "tags" and "'Pricing'" in caught.value.message


def test_counts_per_day_and_segment() -> None:
    friday = datetime(2026, 3, 6, 9, tzinfo=timezone.utc)
    accumulator = Accumulator.of([response(9, plan="pro"), response(3, plan="pro", time=friday), response(5)],
                                 TAXONOMY, segment_by="plan")
    assert {day: part.overall.responses for day, part in accumulator.days.items()} == {
        date(2026, 3, 2): 2, date(2026, 3, 6): 1}
    assert {name: part.overall.responses for name, part in accumulator.segments.items()} == {
        "pro": 2, MISSING_SEGMENT: 1}


def test_days_follow_the_accumulators_time_zone() -> None:
    # 23:30 UTC on Sunday 8 March is 00:30 on Monday 9 March in Berlin (UTC+1 until 29 March)
    late = response(9, time=datetime(2026, 3, 8, 23, 30, tzinfo=timezone.utc))
    assert set(Accumulator.of([late]).days) == {date(2026, 3, 8)}
    assert set(Accumulator.of([late], tz=ZoneInfo("Europe/Berlin")).days) == {date(2026, 3, 9)}


def test_memory_does_not_grow_with_responses() -> None:
    few = Accumulator.of([response(9, "Bug", plan="pro")] * 100, segment_by="plan")
    many = Accumulator.of([response(9, "Bug", plan="pro")] * 10_000, segment_by="plan")
    assert many.total.overall.responses == 10_000
    # only counts are kept: 100x the responses costs a few bytes of bigger integers, not 9,900 records
    assert len(pickle.dumps(many)) < len(pickle.dumps(few)) + 64


def test_merge_leaves_its_operands_alone() -> None:
    left = Accumulator.of([response(9, "Bug")], TAXONOMY)
    right = Accumulator.of([response(0, "Slack")], TAXONOMY)
    merged = left.merge(right)
    assert merged.total.overall.responses == 2
    assert left.total.overall.responses == 1 and set(left.total.tags) == {"Bug"}
    assert right.total.overall.responses == 1
    assert merged == left + right == right + left


@pytest.mark.parametrize("other, field", [
    (Accumulator(Taxonomy((Tag("Bug"),)), segment_by="plan"), "taxonomy"),
    (Accumulator(TAXONOMY, segment_by="region"), "segment_by"),
    (Accumulator(TAXONOMY, segment_by="plan", tz=ZoneInfo("Europe/Berlin")), "tz"),
])
def test_merging_unlike_accumulators_is_refused(other: Accumulator, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Accumulator(TAXONOMY, segment_by="plan").merge(other)
    assert caught.value.field == field


def test_an_empty_segment_property_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Accumulator(segment_by=" ")
    assert caught.value.field == "segment_by"
