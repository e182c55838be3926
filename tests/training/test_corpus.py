import json
from collections import Counter

import pytest

from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.training.corpus import CorpusError, Record, fingerprint, load_records, seed_split


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
