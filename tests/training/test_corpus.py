import json
import unicodedata
from collections import Counter

import pytest

from verbatim.models.industries import GENERAL_ACCOUNT, INDUSTRY_TAXONOMIES, template_account
from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.training.corpus import (SPLITS, CorpusError, Record, fingerprint, general_split, industry_split,
                                      load_records, probe, seed_split, themed_accounts)


def _write(tmp_path, *records: dict) -> object:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_unknown_tags_are_named_with_their_line(tmp_path) -> None:
    path = _write(tmp_path, {"id": "1", "text": "x", "tags": ["Bug"]},
                  {"id": "2", "text": "y", "tags": ["Billing", "Speed"]})
    with pytest.raises(CorpusError) as error:
        load_records(path, DEFAULT_TAXONOMY)
    assert "'Billing'" in str(error.value) and "'Speed'" in str(error.value) and "data.jsonl:2" in str(error.value)


@pytest.mark.parametrize("record, message", [
    ({"id": "1", "text": "  ", "tags": []}, "'text' must be a non-empty"),
    ({"id": "1", "tags": []}, "missing field 'text'"),
    ({"id": "1", "text": "x", "tags": [], "sentiment": "angry"}, "'sentiment' is 'angry'"),
    ({"id": "1", "text": "x", "tags": [], "survey_type": "csat", "score": 9}, "outside 1-5 for csat"),
])
def test_bad_fields_are_named(tmp_path, record: dict, message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        load_records(_write(tmp_path, record), DEFAULT_TAXONOMY)


def test_duplicate_ids_and_parent_closure(tmp_path) -> None:
    records = load_records(_write(tmp_path, {"id": "1", "text": "x", "tags": ["Slack"]}), DEFAULT_TAXONOMY)
    assert records[0].tags == {"Slack", "Integrations"}
    with pytest.raises(CorpusError, match="duplicate id '1'"):
        load_records(_write(tmp_path, {"id": "1", "text": "x", "tags": []}, {"id": "1", "text": "y", "tags": []}),
                     DEFAULT_TAXONOMY)


def test_fingerprint_changes_with_labels() -> None:
    a = Record(id="1", text="x", tags=frozenset({"Bug"}), sentiment="negative")
    b = Record(id="1", text="x", tags=frozenset({"Price"}), sentiment="negative")
    assert fingerprint([a]) != fingerprint([b])
    assert fingerprint([a, b]) == fingerprint([b, a])


def test_seed_corpus_meets_its_data_card() -> None:
    splits = {s: seed_split(s, DEFAULT_TAXONOMY) for s in ("train", "dev", "test")}
    everything = [r for records in splits.values() for r in records]
    assert len(everything) >= 2000
    assert len({r.id for r in everything}) == len(everything)
    texts = [" ".join(r.text.lower().split()) for r in everything]
    assert len(set(texts)) == len(texts), "a text sits in two records (and maybe two splits)"
    counts = Counter(tag for r in everything for tag in r.tags)
    for tag in DEFAULT_TAXONOMY.tags:
        if tag.parent is None:
            assert counts[tag.name] >= 120, tag.name
    assert sum(not r.tags for r in everything) / len(everything) >= 0.15
    assert {r.sentiment for r in everything} == {"negative", "neutral", "positive"}


def test_a_tag_sentiment_is_its_own_label_or_for_an_unlabelled_comment_the_comments() -> None:
    mixed = Record("m", "love the app, hate the price", frozenset({"Usability", "Price"}), "neutral",
                   tag_sentiments=(("Price", "negative"), ("Usability", "positive")))
    assert (mixed.tag_sentiment("Price"), mixed.tag_sentiment("Usability")) == ("negative", "positive")
    assert mixed.tag_sentiment("Bug") is None
    plain = Record("p", "it crashes", frozenset({"Bug"}), "negative")
    assert plain.tag_sentiment("Bug") == "negative" and plain.tag_sentiment("Price") is None


def test_tag_sentiments_must_name_carried_tags_and_known_labels(tmp_path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1", "text": "x", "tags": ["Bug"], "tag_sentiments": {"Price": "negative"}}\n')
    with pytest.raises(CorpusError, match="c.jsonl:1: field 'tag_sentiments' names 'Price'"):
        load_records(path, DEFAULT_TAXONOMY)
    path.write_text('{"id": "1", "text": "x", "tags": ["Bug"], "tag_sentiments": {"Bug": "awful"}}\n')
    with pytest.raises(CorpusError, match="'tag_sentiments.Bug' is 'awful'"):
        load_records(path, DEFAULT_TAXONOMY)


@pytest.mark.parametrize("industry", sorted(INDUSTRY_TAXONOMIES))
def test_industry_splits_are_fixed_disjoint_and_cover_the_corpus(industry: str) -> None:
    splits = {split: industry_split(industry, split) for split in SPLITS}
    ids = {split: {r.id for r in records} for split, records in splits.items()}
    assert not (ids["train"] & ids["dev"] or ids["train"] & ids["test"] or ids["dev"] & ids["test"])
    assert {r.account for records in splits.values() for r in records} == {template_account(industry)}
    if industry != "saas":
        total = sum(len(records) for records in splits.values())
        assert total >= 2000
        assert 0.10 < len(splits["test"]) / total < 0.20 and 0.10 < len(splits["dev"]) / total < 0.20
    assert [r.id for r in industry_split(industry, "test")] == [r.id for r in splits["test"]]


def test_the_sentiment_only_corpus_splits_into_train_and_test_without_tags() -> None:
    train, dev, test = (general_split(split) for split in SPLITS)
    assert dev == []  # nothing is tuned on it
    assert len(train) + len(test) >= 1400 and 0.10 < len(test) / (len(train) + len(test)) < 0.20
    assert not {r.id for r in train} & {r.id for r in test}
    assert {r.account for r in train + test} == {GENERAL_ACCOUNT}
    assert all(not r.tags and r.sentiment in ("negative", "neutral", "positive") for r in train + test)
    assert themed_accounts(train + industry_split("media", "dev")) == [template_account("media")]


def test_the_emoji_probe_meets_its_data_card_and_shares_nothing_with_the_corpora() -> None:
    rows = probe("emoji")
    assert len(rows) == 150 and all(not r.tags for r in rows)
    assert Counter(r.sentiment for r in rows) == {"positive": 60, "negative": 60, "neutral": 30}
    assert all(any(unicodedata.category(c) == "So" for c in r.text) for r in rows)
    trained = {r.text for i in INDUSTRY_TAXONOMIES for s in SPLITS for r in industry_split(i, s)}
    trained |= {r.text for s in SPLITS for r in general_split(s)}
    shared = trained & {r.text for r in rows}
    assert shared and not any(c.isalnum() for text in shared for c in text)  # only bare emoji answers ("👍") recur
    with pytest.raises(ValueError, match=r"no probe named 'tweets'; the probes are \['emoji'\]"):
        probe("tweets")
