"""Store state to training Records: DESIGN §2 label semantics, seed replacement, replay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag
from verbatim.store import Action, Correction, Store
from verbatim.training.corpus import Record
from verbatim.training.corrections import as_corrections, correction_records, replace_seed

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(f"sqlite:///{tmp_path / 'verbatim.db'}") as opened:
        yield opened


def correction(cid: str, comment: str = "c1", tag: str = "Bug", action: Action | None = Action.ADD,
               minutes: int = 0, account: str = DEFAULT_ACCOUNT, text: str = "The Slack sync crashes",
               sentiment: str | None = None, predicted: bool = False,
               tag_sentiment: str | None = None) -> Correction:
    return Correction(correction_id=cid, account_id=account, comment_id=comment, text=text, tag=tag,
                      action=action if tag else None, predicted_by_model=predicted, sentiment=sentiment,
                      actor="tester", time=T0 + timedelta(minutes=minutes), tag_sentiment=tag_sentiment)


def records(store: Store) -> dict[tuple[str, str], Record]:
    taxonomies = {a: store.taxonomy(a) for a in store.accounts()}
    return {(r.account, r.id): r for r in correction_records(store, taxonomies)}


def test_final_tag_set_is_the_full_label_and_children_bring_parents(store: Store) -> None:
    store.submit_corrections([
        correction("1", tag="Slack"),
        correction("2", tag="Bug"),
        correction("3", tag="Bug", action=Action.REMOVE, minutes=1, predicted=True),  # latest word on Bug
        correction("4", tag="Price", action=Action.REMOVE, predicted=True),
    ])
    [record] = records(store).values()
    assert record.tags == {"Slack", "Integrations"}
    assert record.id == "c1" and record.account == DEFAULT_ACCOUNT and record.sentiment is None


def test_sentiment_correction_relabels_and_alone_marks_the_comment_reviewed(store: Store) -> None:
    store.submit_corrections([
        correction("1", comment="c1", tag="", sentiment="negative"),
        correction("2", comment="c1", tag="", sentiment="positive", minutes=2),
        correction("3", comment="c2", tag="Bug", sentiment="neutral"),
    ])
    got = records(store)
    assert got[(DEFAULT_ACCOUNT, "c1")].sentiment == "positive"
    assert got[(DEFAULT_ACCOUNT, "c1")].tags == frozenset()  # reviewed: every default tag is a negative
    assert got[(DEFAULT_ACCOUNT, "c2")].sentiment == "neutral"


def test_a_tag_sentiment_rides_on_the_latest_add_of_its_tag(store: Store) -> None:
    text = "Love the app, hate the new price"
    store.submit_corrections([
        correction("1", tag="Price", text=text, sentiment="positive", tag_sentiment="positive"),
        correction("2", tag="Price", text=text, tag_sentiment="negative", minutes=1),  # the later word wins
        correction("3", tag="Usability", text=text, tag_sentiment="positive"),
        correction("4", tag="Bug", text=text),  # no word about Bug's own sentiment
        correction("5", comment="c2", tag="Price", tag_sentiment="negative"),
        correction("6", comment="c2", tag="Price", action=Action.REMOVE, minutes=1),  # removed: no sentiment left
    ])
    got = records(store)
    record = got[(DEFAULT_ACCOUNT, "c1")]
    assert record.tag_sentiments == (("Price", "negative"), ("Usability", "positive"))
    assert (record.tag_sentiment("Price"), record.tag_sentiment("Usability"), record.tag_sentiment("Bug")) == (
        "negative", "positive", None)  # Bug is unlabelled: not the comment's positive
    assert got[(DEFAULT_ACCOUNT, "c2")].tag_sentiments == ()


def test_tags_deleted_since_are_dropped_and_a_comment_only_about_them_is_skipped(store: Store) -> None:
    store.put_tags("acme", [Tag("Reporting"), Tag("Exports", parent="Reporting"), Tag("Mobile")])
    store.submit_corrections([
        correction("1", account="acme", comment="a", tag="Mobile"),
        correction("2", account="acme", comment="a", tag="Reporting"),
        correction("3", account="acme", comment="b", tag="Mobile"),
    ])
    store.delete_tag("acme", "Mobile")
    got = records(store)
    assert got[("acme", "a")].tags == {"Reporting"}
    assert ("acme", "b") not in got  # it said nothing about today's taxonomy: not a row of negatives


def test_accounts_are_kept_apart(store: Store) -> None:
    store.put_tags("acme", [Tag("Reporting")])
    store.submit_corrections([correction("1", comment="same", tag="Bug"),
                              correction("2", comment="same", tag="Reporting", account="acme")])
    got = records(store)
    assert got[(DEFAULT_ACCOUNT, "same")].tags == {"Bug"}
    assert got[("acme", "same")].tags == {"Reporting"}


def test_the_latest_text_of_a_comment_is_its_training_text(store: Store) -> None:
    store.submit_corrections([correction("1", text="old wording"),
                              correction("2", tag="Price", text="new wording", minutes=5)])
    assert records(store)[(DEFAULT_ACCOUNT, "c1")].text == "new wording"


def test_a_correction_replaces_the_seed_record_with_the_same_text_in_its_split() -> None:
    seed = {
        "train": [Record("s1", "Too slow", frozenset({"Performance"}), "negative")],
        "test": [Record("s2", "Great support", frozenset({"Support"}), "positive"),
                 Record("s3", "Untouched", frozenset(), "neutral")],
    }
    corrected = [Record("c9", " Great support ", frozenset({"Support", "Usability"}), "positive"),
                 Record("c10", "A brand new comment", frozenset({"Bug"}), None),
                 Record("c11", "Too slow", frozenset({"Performance"}), None, account="acme")]
    replaced, rest = replace_seed(seed, corrected)
    assert [r.id for r in replaced["test"]] == ["c9", "s3"]
    assert replaced["test"][0].tags == {"Support", "Usability"}
    assert [r.id for r in replaced["train"]] == ["s1"]  # another account's comment never replaces a seed one
    assert [r.id for r in rest] == ["c10", "c11"]


def test_replayed_records_come_back_unchanged(store: Store) -> None:
    store.put_tags("acme", [Tag("Reporting"), Tag("Exports", parent="Reporting")])
    original = [
        Record("r1", "CSV export drops columns", frozenset({"Exports", "Reporting"}), "negative", account="acme",
               tag_sentiments=(("Exports", "negative"),)),
        Record("r2", "Dashboards are lovely", frozenset({"Reporting"}), None, account="acme"),
        Record("r3", "Just fine", frozenset(), "neutral", account="acme"),
        Record("r4", "Nothing to say", frozenset(), None, account="acme"),  # cannot be expressed: skipped
    ]
    replay = as_corrections(original, "replay", T0)
    assert store.submit_corrections(replay).accepted == len(replay) == 4
    assert store.submit_corrections(as_corrections(original, "replay", T0)).duplicates == 4  # idempotent
    got = records(store)
    assert {k[1]: v for k, v in got.items()} == {r.id: r for r in original[:3]}


def test_default_taxonomy_closure_uses_the_live_taxonomy(store: Store) -> None:
    store.put_tags(DEFAULT_ACCOUNT, [Tag("Teams", parent="Integrations")])
    store.submit_corrections([correction("1", tag="Teams")])
    assert records(store)[(DEFAULT_ACCOUNT, "c1")].tags == {"Teams", "Integrations"}
    assert "Teams" not in DEFAULT_TAXONOMY
