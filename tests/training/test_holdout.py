"""Deterministic per-account splits of corrections, and the seed corpus's fixed splits."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.store import Store
from verbatim.models.industries import INDUSTRY_TAXONOMIES, template_account
from verbatim.training.corpus import Record, general_split, industry_split, seed_split
from verbatim.training.corrections import as_corrections
from verbatim.training.holdout import (
    HoldoutConfig,
    Splits,
    build_splits,
    dataset_counts,
    position,
    split_corrections,
    with_seed,
)

REPO = Path(__file__).resolve().parents[2]


def comments(n: int, account: str = "acme", start: int = 0) -> list[Record]:
    return [Record(f"c{i}", f"comment {i}", frozenset(), None, account=account) for i in range(start, start + n)]


def ids(records: list[Record]) -> set[str]:
    return {r.id for r in records}


def test_position_is_a_sha256_of_account_and_id_in_unit_interval() -> None:
    digest = hashlib.sha256(b"acme\x1fc42").digest()
    assert position("acme", "c42") == int.from_bytes(digest[:8], "big") / 2**64
    assert 0 <= position("acme", "c42") < 1
    assert position("acme", "c42") != position("other", "c42")


def test_fractions_are_respected_per_account() -> None:
    splits = split_corrections(comments(4000) + comments(2000, account="zoo"))
    for account, n in (("acme", 4000), ("zoo", 2000)):
        held = len(splits.by_account("heldout")[account]) / n
        dev = len(splits.by_account("dev")[account]) / n
        assert abs(held - 0.15) < 0.025 and abs(dev - 0.10) < 0.025
    assert len(splits.train) + len(splits.dev) + len(splits.heldout) == 6000


def test_custom_fractions() -> None:
    splits = split_corrections(comments(3000), HoldoutConfig(heldout_fraction=0.3, dev_fraction=0.0))
    assert not splits.dev and abs(len(splits.heldout) / 3000 - 0.3) < 0.03


def test_a_comment_keeps_its_split_as_corrections_accumulate() -> None:
    before = split_corrections(comments(300))
    after = split_corrections(comments(3000)[::-1])  # more comments, other order
    assert ids(before.heldout) <= ids(after.heldout)
    assert ids(before.train) <= ids(after.train) and ids(before.dev) <= ids(after.dev)


def test_split_is_stable_across_processes_and_hash_seeds() -> None:
    code = ("from verbatim.training.holdout import split_corrections; from verbatim.training.corpus import Record; "
            "s = split_corrections([Record(f'c{i}', 't', frozenset(), None, account='acme') for i in range(200)]); "
            "print(sorted(r.id for r in s.heldout))")
    outputs = {subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert outputs.pop().strip() == str(sorted(ids(split_corrections(comments(200)).heldout)))


def test_an_account_too_small_to_hold_out_enough_trains_on_every_comment() -> None:
    # 15 % of 199 is under 30: the gate could not judge such a slice, so nothing is held back.
    small = split_corrections(comments(199))
    assert (len(small.train), small.dev, small.heldout) == (199, [], [])
    big = split_corrections(comments(200))
    assert len(big.heldout) > 15 and big.dev and len(big.train) < 200
    # Each account is sized on its own.
    mixed = split_corrections([*comments(50, account="small"), *comments(400, account="big", start=1000)])
    assert {r.account for r in mixed.heldout} == {r.account for r in mixed.dev} == {"big"}
    assert sum(r.account == "small" for r in mixed.train) == 50


def test_min_heldout_sets_where_splitting_starts() -> None:
    assert len(split_corrections(comments(40), HoldoutConfig(min_heldout=1)).heldout) >= 1
    assert not split_corrections(comments(6), HoldoutConfig(min_heldout=1)).heldout  # 0.9 expected


@pytest.mark.parametrize("kwargs, message", [
    ({"heldout_fraction": 1.0}, "heldout_fraction"),
    ({"dev_fraction": -0.1}, "dev_fraction"),
    ({"heldout_fraction": 0.6, "dev_fraction": 0.5}, "must be < 1"),
    ({"min_heldout": 0}, "min_heldout"),
])
def test_config_validates_itself(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HoldoutConfig(**kwargs)


def test_seed_keeps_its_fixed_splits() -> None:
    seed = {"train": comments(3, DEFAULT_ACCOUNT), "dev": comments(2, DEFAULT_ACCOUNT, 10),
            "test": comments(1, DEFAULT_ACCOUNT, 20)}
    merged = with_seed(Splits(train=comments(1, start=100), dev=[], heldout=[]), seed, frozenset({"c0"}))
    assert ids(merged.train) == {"c0", "c1", "c2", "c100"}
    assert ids(merged.dev) == {"c10", "c11"} and ids(merged.heldout) == {"c20"}
    assert merged.seed_ids == {"c0"}
    with pytest.raises(ValueError, match="unknown seed splits"):
        with_seed(merged, {"validation": []})


def test_build_splits_with_an_empty_store_is_every_industrys_corpus(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        splits = build_splits(store, {DEFAULT_ACCOUNT: store.taxonomy(DEFAULT_ACCOUNT)})
    for split, records in (("train", splits.train), ("dev", splits.dev), ("test", splits.heldout)):
        general = general_split("train") if split == "train" else []  # sentiment only: never judged on
        assert records == [r for industry in INDUSTRY_TAXONOMIES for r in industry_split(industry, split)] + general
        assert [r for r in records if r.account == DEFAULT_ACCOUNT] == seed_split(split, DEFAULT_TAXONOMY)
    for industry in INDUSTRY_TAXONOMIES:
        counts = dataset_counts(splits)["accounts"][template_account(industry)]
        assert counts["seed"] == sum(len(industry_split(industry, s)) for s in ("train", "dev", "test"))
        assert counts["corrections"] == 0


def test_build_splits_lets_a_correction_overrule_a_seed_test_comment(tmp_path: Path) -> None:
    target = seed_split("test", DEFAULT_TAXONOMY)[0]
    fixed = Record("comment-77", target.text, frozenset({"Competition"}), "negative")
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.submit_corrections(as_corrections([fixed], "t", datetime(2025, 1, 1, tzinfo=timezone.utc)))
        store.delete_tag(DEFAULT_ACCOUNT, "Documentation")
        splits = build_splits(store, {DEFAULT_ACCOUNT: store.taxonomy(DEFAULT_ACCOUNT)})
    replaced = [r for r in splits.heldout if r.text == target.text]
    assert replaced == [fixed]  # held out where the seed record was, with the corrected labels
    assert "comment-77" not in splits.seed_ids and target.id not in ids(splits.heldout)
    assert all("Documentation" not in r.tags for r in (*splits.train, *splits.dev, *splits.heldout))
    counts = dataset_counts(splits)["accounts"][DEFAULT_ACCOUNT]
    assert counts["corrections"] == 1
