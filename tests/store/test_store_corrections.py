"""Corrections in the store: validation, idempotency, all-or-nothing batches, reading back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from verbatim.models.taxonomy import Tag
from verbatim.store import (Action, Correction, CorrectionConflict, InvalidCorrection, InvalidInput, Outcome, Store,
                   UnknownAccount, UnknownTag)

Make = Callable[..., Correction]


def test_a_correction_round_trips(store: Store, make_correction: Make) -> None:
    tz = timezone(timedelta(hours=2))
    sent = replace(make_correction("c1", tag="Slack", action=Action.REMOVE, predicted_by_model=True,
                                   sentiment="negative", text="Ünïcode ✓ text"),
                   time=datetime(2025, 3, 1, 14, 30, 15, 123456, tzinfo=tz))
    result = store.submit_corrections([sent])
    assert (result.outcomes, result.accepted, result.duplicates) == ((Outcome.STORED,), 1, 0)
    [stored] = store.corrections()
    assert stored == sent
    assert stored.time.utcoffset() == timedelta(0)
    assert stored.time == datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)


def test_a_tag_sentiment_round_trips_and_is_part_of_the_content(store: Store, make_correction: Make) -> None:
    sent = replace(make_correction("c1", tag="Price", action=Action.ADD, sentiment="positive"), tag_sentiment="negative")
    store.submit_corrections([sent])
    assert store.corrections() == [sent]
    with pytest.raises(CorrectionConflict):
        store.submit_corrections([replace(sent, tag_sentiment="neutral")])


def test_a_sentiment_only_correction_is_stored(store: Store, make_correction: Make) -> None:
    sent = make_correction("c1", tag="", action=None, sentiment="positive")
    assert store.submit_corrections([sent]).accepted == 1
    assert store.corrections() == [sent]


def test_resubmitting_is_idempotent_and_counted(store: Store, make_correction: Make) -> None:
    batch = [make_correction(f"c{i}", minutes=i) for i in range(3)]
    assert store.submit_corrections(batch).accepted == 3
    again = store.submit_corrections([*batch[1:], make_correction("c3")])
    assert again.outcomes == (Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.STORED)
    assert (again.accepted, again.duplicates) == (1, 2)
    assert store.count_corrections() == 4


def test_the_submitting_key_is_kept_and_a_resubmission_by_another_key_is_a_duplicate(
        store: Store, make_correction: Make) -> None:
    first = replace(make_correction("c1"), key_name="crm-sync")
    assert store.submit_corrections([first, make_correction("c2")]).accepted == 2
    again = store.submit_corrections([replace(first, key_name="another-key")])
    assert again.outcomes == (Outcome.DUPLICATE,)
    assert [(c.correction_id, c.key_name) for c in store.corrections()] == [("c1", "crm-sync"), ("c2", None)]


def test_the_same_id_twice_in_one_batch(store: Store, make_correction: Make) -> None:
    c = make_correction("c1")
    assert store.submit_corrections([c, c]).outcomes == (Outcome.STORED, Outcome.DUPLICATE)
    assert store.count_corrections() == 1
    with pytest.raises(CorrectionConflict, match="'c2'"):
        store.submit_corrections([make_correction("c2"), make_correction("c2", tag="Price")])
    assert store.count_corrections() == 1


def test_a_reused_id_with_other_content_is_refused_and_the_batch_is_not_written(
        store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction("c1", action=Action.ADD)])
    batch = [make_correction("c2"), make_correction("c1", action=Action.REMOVE, minutes=5), make_correction("c3")]
    with pytest.raises(CorrectionConflict, match=r"'c1'.*action, time") as caught:
        store.submit_corrections(batch)
    assert caught.value.correction_id == "c1"
    assert caught.value.fields == ("action", "time")
    assert [c.correction_id for c in store.corrections()] == ["c1"]
    assert store.corrections()[0].action is Action.ADD


def test_a_duplicate_stays_a_duplicate_after_its_tag_is_deleted(store: Store, make_correction: Make) -> None:
    c = make_correction("c1", tag="Price")
    store.submit_corrections([c])
    store.delete_tag("default", "Price")
    assert store.submit_corrections([c]).outcomes == (Outcome.DUPLICATE,)
    with pytest.raises(UnknownTag, match="'Price'"):
        store.submit_corrections([make_correction("c2", tag="Price")])


def test_unknown_tag_and_account_are_refused_and_nothing_is_written(store: Store, make_correction: Make) -> None:
    good = make_correction("ok")
    with pytest.raises(UnknownTag, match=r"corrections\[1\]\.tag: unknown tag 'Nope'.*'default'") as tag_error:
        store.submit_corrections([good, make_correction("bad", tag="Nope")])
    assert tag_error.value.field == "corrections[1].tag"
    with pytest.raises(UnknownAccount, match=r"corrections\[1\]\.account_id: unknown account 'ghost'"):
        store.submit_corrections([good, make_correction("bad", account_id="ghost")])
    store.put_tags("acme", [Tag("Reporting")])
    with pytest.raises(UnknownTag, match="'Bug'.*'acme'"):
        store.submit_corrections([good, make_correction("bad", account_id="acme", tag="Bug")])
    assert store.count_corrections() == 0


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"text": ""}, "text", "must not be empty"),
    ({"text": "   \n"}, "text", "must not be empty"),
    ({"text": "a\x00b"}, "text", "NUL"),
    ({"comment_id": "k\x00"}, "comment_id", "NUL"),
    ({"correction_id": ""}, "correction_id", "must not be empty"),
    ({"comment_id": "x" * 256}, "comment_id", "limit is 255"),
    ({"account_id": ""}, "account_id", "must not be empty"),
    ({"action": None}, "action", "ADD or REMOVE"),
    ({"action": "ADD"}, "action", "ADD or REMOVE"),
    ({"sentiment": "angry"}, "sentiment", "negative, neutral, positive"),
    ({"tag_sentiment": "angry"}, "tag_sentiment", "negative, neutral, positive"),
    ({"action": Action.REMOVE, "tag_sentiment": "negative"}, "tag_sentiment", "only be set on an ADD"),
    ({"time": datetime(2025, 3, 1, 12, 0)}, "time", "timezone-aware"),
    ({"tag": "", "action": None}, "sentiment", "must be set when no tag is given"),
    ({"tag": "", "action": Action.ADD, "sentiment": "neutral"}, "action", "must be unset"),
    ({"tag": "", "action": None, "sentiment": "neutral", "predicted_by_model": True}, "predicted_by_model", "false"),
    ({"predicted_by_model": 1}, "predicted_by_model", "bool"),
])
def test_invalid_corrections_name_the_field(store: Store, make_correction: Make, changes: dict[str, object],
                                            field: str, message: str) -> None:
    bad = replace(make_correction("bad"), **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidCorrection, match=message) as caught:
        store.submit_corrections([make_correction("ok"), bad])
    assert caught.value.field == f"corrections[1].{field}"
    assert store.count_corrections() == 0


def test_an_empty_batch_stores_nothing(store: Store) -> None:
    result = store.submit_corrections([])
    assert (result.outcomes, result.accepted, result.duplicates) == ((), 0, 0)


def test_corrections_come_back_in_arrival_order_not_time_order(store: Store, make_correction: Make) -> None:
    store.put_tags("acme", [Tag("Reporting")])
    store.submit_corrections([make_correction("late", minutes=60), make_correction("early", minutes=-60)])
    store.submit_corrections([make_correction("acme-1", account_id="acme", tag="Reporting")])
    store.submit_corrections([make_correction("middle", minutes=0)])
    assert [c.correction_id for c in store.corrections()] == ["late", "early", "acme-1", "middle"]
    assert [c.correction_id for c in store.corrections("default")] == ["late", "early", "middle"]
    assert [c.correction_id for c in store.corrections("acme")] == ["acme-1"]
    assert (store.count_corrections(), store.count_corrections("default"), store.count_corrections("acme")) \
        == (4, 3, 1)


def test_since_id_is_a_cursor(store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction(f"c{i}") for i in range(5)])
    assert [c.correction_id for c in store.corrections(since_id="c2")] == ["c3", "c4"]
    assert store.corrections(since_id="c4") == []
    store.submit_corrections([make_correction("c5")])
    assert [c.correction_id for c in store.corrections("default", since_id="c4")] == ["c5"]
    with pytest.raises(InvalidInput, match="since_id: unknown correction_id 'nope'"):
        store.corrections(since_id="nope")


def test_reading_an_unknown_account_is_refused(store: Store) -> None:
    with pytest.raises(UnknownAccount):
        store.corrections("ghost")
    with pytest.raises(UnknownAccount):
        store.count_corrections("ghost")
    with pytest.raises(UnknownAccount):
        store.label_states("ghost")


def test_a_large_batch_is_stored_in_one_call(store: Store, make_correction: Make) -> None:
    batch = [make_correction(f"c{i:05d}", comment_id=f"k{i % 97}", minutes=i) for i in range(1200)]
    assert store.submit_corrections(batch).accepted == 1200
    assert store.submit_corrections(batch).duplicates == 1200
    assert [c.correction_id for c in store.corrections()] == [c.correction_id for c in batch]


def test_corrections_survive_reopening(store_url: str, make_correction: Make) -> None:
    with Store(store_url) as first:
        first.submit_corrections([make_correction("c1"), make_correction("c2", tag="", sentiment="neutral")])
    with Store(store_url) as second:
        assert [c.correction_id for c in second.corrections()] == ["c1", "c2"]
        assert second.submit_corrections([make_correction("c1")]).duplicates == 1
