"""The SemEval-2014 restaurants loader, on a small file written here (the real one stays outside the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.training.corpus import CorpusError
from verbatim.bench.semeval import (
    RESTAURANTS_TAXONOMY,
    load_semeval,
    per_tag_sample,
    sentence_sentiment,
    split_records,
)

XML = """<?xml version="1.0" encoding="UTF-8"?>
<sentences>
  <sentence id="10"><text>But the staff was so horrible to us.</text>
    <aspectCategories><aspectCategory category="service" polarity="negative"/></aspectCategories></sentence>
  <sentence id="11"><text> Great food, rude waiter. </text>
    <aspectCategories><aspectCategory category="food" polarity="positive"/>
      <aspectCategory category="service" polarity="negative"/></aspectCategories></sentence>
  <sentence id="12"><text>We went on a Tuesday.</text>
    <aspectCategories><aspectCategory category="anecdotes/miscellaneous" polarity="neutral"/></aspectCategories>
  </sentence>
  <sentence id="13"><text>Pricey but the room is lovely.</text>
    <aspectCategories><aspectCategory category="price" polarity="conflict"/>
      <aspectCategory category="ambience" polarity="positive"/></aspectCategories></sentence>
</sentences>
"""


def write(tmp_path: Path, text: str = XML) -> Path:
    path = tmp_path / "restaurants.xml"
    path.write_text(text)
    return path


def test_sentences_become_records_of_the_restaurants_account(tmp_path: Path) -> None:
    records = load_semeval(write(tmp_path))
    assert [r.id for r in records] == ["semeval-10", "semeval-11", "semeval-12", "semeval-13"]
    assert [set(r.tags) for r in records] == [{"service"}, {"food", "service"}, {"misc"}, {"price", "ambience"}]
    assert [r.sentiment for r in records] == ["negative", None, "neutral", None]
    assert records[1].text == "Great food, rude waiter." and {r.account for r in records} == {"restaurants"}
    assert all(r.tags <= set(RESTAURANTS_TAXONOMY.names) for r in records)


def test_sentence_sentiment_needs_agreement() -> None:
    assert sentence_sentiment(["positive", "positive"]) == "positive"
    assert sentence_sentiment(["positive", "negative"]) is None
    assert sentence_sentiment(["conflict"]) is None
    assert sentence_sentiment([]) is None


def test_unknown_category_and_missing_file_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CorpusError, match=r"sentence #1: unknown categories \['drinks'\]"):
        load_semeval(write(tmp_path, XML.replace('category="service"', 'category="drinks"', 1)))
    monkeypatch.setenv("VERBATIM_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(CorpusError, match=r"absent/semeval14_restaurants_train.xml: .*--data-dir DIR or set VERBATIM_DATA_DIR"):
        load_semeval()


def test_split_is_seeded_and_disjoint(tmp_path: Path) -> None:
    records = load_semeval(write(tmp_path))
    train, rest = split_records(records, 0.75, seed=1)
    assert (train, rest) == split_records(records, 0.75, seed=1)
    assert len(train) == 3 and len(rest) == 1 and not {r.id for r in train} & {r.id for r in rest}
    with pytest.raises(ValueError, match="train_fraction"):
        split_records(records, 1.0)


def test_per_tag_sample_reaches_the_count_for_every_tag(tmp_path: Path) -> None:
    records = load_semeval(write(tmp_path))
    sample = per_tag_sample(records, 1, seed=3)
    assert {tag for r in sample for tag in r.tags} == {"food", "service", "misc", "price", "ambience"}
    assert len(sample) <= len(records)
