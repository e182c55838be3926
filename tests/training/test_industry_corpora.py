"""The industry corpora (training/data/<industry>/comments-*.jsonl): every record is well formed and labelled
with its industry's taxonomy, with a sentiment for each tag it carries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.models.types import SENTIMENT_LABELS

DATA = Path(__file__).resolve().parents[2] / "training" / "data"
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
INDUSTRIES = sorted(d.name for d in DATA.iterdir() if d.is_dir() and d.name in INDUSTRY_TAXONOMIES)


def records(industry: str) -> list[tuple[str, dict]]:
    out = []
    for path in sorted((DATA / industry).glob("comments-*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            out.append((f"{path.name}:{number}", json.loads(line)))
    return out


def test_every_industry_of_the_contract_has_a_corpus() -> None:
    assert INDUSTRIES == ["ecommerce", "media"]


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_records_are_well_formed_and_use_the_industry_taxonomy(industry: str) -> None:
    names = set(INDUSTRY_TAXONOMIES[industry].names)
    rows = records(industry)
    assert rows, f"no comments-*.jsonl under {DATA / industry}"
    ids, texts = set(), set()
    for where, record in rows:
        assert record["id"] not in ids, f"{where}: id {record['id']} repeated"
        ids.add(record["id"])
        assert isinstance(record["text"], str) and record["text"].strip(), where
        if len(record["text"]) > 30:  # short answers ("9", "ok") recur in real surveys; nothing longer should
            assert record["text"] not in texts, f"{where}: text repeated"
        texts.add(record["text"])
        assert set(record["tags"]) <= names, f"{where}: tags {set(record['tags']) - names} not in the taxonomy"
        assert len(set(record["tags"])) == len(record["tags"]), where
        assert record["sentiment"] in SENTIMENT_LABELS, where
        assert set(record["tag_sentiments"]) == set(record["tags"]), f"{where}: one sentiment per tag"
        assert set(record["tag_sentiments"].values()) <= set(SENTIMENT_LABELS), where
        assert record["survey_type"] in SCALES, where
        if record["score"] is not None:
            low, high = SCALES[record["survey_type"]]
            assert isinstance(record["score"], int) and low <= record["score"] <= high, where
        assert re.fullmatch(r"[a-z]{2}", record["language"]), where


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_each_tag_is_seen_with_each_sentiment(industry: str) -> None:
    seen = {(tag, label) for _, r in records(industry) for tag, label in r["tag_sentiments"].items()}
    for tag in INDUSTRY_TAXONOMIES[industry].names:
        assert {label for t, label in seen if t == tag} == set(SENTIMENT_LABELS), tag


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_keyword_rules_rarely_add_a_tag_the_writers_did_not_give(industry: str) -> None:
    # A rule match adds its tag to the served answer, so the lists must name their theme on their own.
    from verbatim.models.rules import KeywordRules

    rules = KeywordRules(INDUSTRY_TAXONOMIES[industry])
    right = wrong = 0
    for _, record in records(industry):
        for tag in rules.match(record["text"]):
            right, wrong = (right + 1, wrong) if tag in record["tags"] else (right, wrong + 1)
    assert right / (right + wrong) >= 0.8, (right, wrong)


def test_the_sentiment_only_corpus_is_well_formed_balanced_and_not_about_the_three_industries() -> None:
    rows = records("general")
    assert len(rows) >= 1400, f"{len(rows)} comments under {DATA / 'general'}"
    ids, texts, domains = set(), set(), set()
    for where, record in rows:
        assert record["id"] not in ids, f"{where}: id {record['id']} repeated"
        ids.add(record["id"])
        assert record["text"].strip() and record["tags"] == [], where
        if len(record["text"]) > 30:
            assert record["text"] not in texts, f"{where}: text repeated"
        texts.add(record["text"])
        assert record["sentiment"] in SENTIMENT_LABELS and re.fullmatch(r"[a-z]{2}", record["language"]), where
        domains.add(record["domain"])
    shares = {label: sum(r["sentiment"] == label for _, r in rows) / len(rows) for label in SENTIMENT_LABELS}
    assert all(share > 0.15 for share in shares.values()), shares
    assert len(domains) >= 10, domains
