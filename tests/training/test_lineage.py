from pathlib import Path

import pytest

from verbatim.training.corpus import Record
from verbatim.training.lineage import LINEAGE_FILE, learned_from, read_learned, unseen, write_learned


def record(account: str, comment_id: str) -> Record:
    return Record(comment_id, f"text of {comment_id}", frozenset(), None, account=account)


def test_written_and_read_back(tmp_path: Path) -> None:
    write_learned(tmp_path, {"shop": {"b", "a"}, "bank": set()})
    assert read_learned(tmp_path) == {"shop": {"a", "b"}, "bank": set()}


def test_an_artifact_without_the_record_learned_nothing_recorded(tmp_path: Path) -> None:
    assert read_learned(tmp_path) == {} and read_learned(None) == {}


def test_an_unreadable_record_names_the_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / LINEAGE_FILE).write_text("{not json")
    with pytest.raises(ValueError, match=f"{LINEAGE_FILE} is unreadable.*delete it"):
        read_learned(tmp_path)


def test_learned_from_inherits_and_skips_seed_comments() -> None:
    records = [record("shop", "s1"), record("default", "seed-1"), record("default", "c9")]
    inherited = {"shop": {"s0"}, "bank": {"b0"}}
    learned = learned_from(records, frozenset({"seed-1"}), inherited)
    assert learned == {"shop": {"s0", "s1"}, "bank": {"b0"}, "default": {"c9"}}
    assert inherited == {"shop": {"s0"}, "bank": {"b0"}}  # not modified


def test_unseen_leaves_out_learned_comments_and_counts_them() -> None:
    heldout = {"shop": [record("shop", "s1"), record("shop", "s2")], "bank": [record("bank", "b1")],
               "new": [record("new", "n1")]}
    kept, left_out = unseen(heldout, {"shop": {"s1"}, "bank": {"b1"}, "other": {"n1"}})
    assert {a: [r.id for r in rs] for a, rs in kept.items()} == {"shop": ["s2"], "new": ["n1"]}
    assert left_out == {"shop": 1, "bank": 1}  # bank is left with nothing to judge on
