"""Evaluation reports: per-tag precision/recall/F1, micro/macro F1, sentiment accuracy,
macro-F1 and confusion matrix, and the same theme figures for a keyword-rules-only baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verbatim.models.predictor import Predictor
from verbatim.models.rules import KeywordRules
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.corpus import Record


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def theme_report(gold: Sequence[set[str]], predicted: Sequence[set[str]], tags: Sequence[str]) -> dict:
    """Per-tag and micro/macro figures; macro averages tags that occur in gold or predictions."""
    per_tag, totals = {}, [0, 0, 0]
    for tag in tags:
        tp = sum(tag in g and tag in p for g, p in zip(gold, predicted))
        fp = sum(tag not in g and tag in p for g, p in zip(gold, predicted))
        fn = sum(tag in g and tag not in p for g, p in zip(gold, predicted))
        per_tag[tag] = _prf(tp, fp, fn) | {"support": tp + fn}
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
    active = [m["f1"] for tag, m in per_tag.items() if m["support"] or m["precision"]]
    return {
        "micro_f1": _prf(*totals)["f1"],
        "macro_f1": round(sum(active) / len(active), 4) if active else 0.0,
        "per_tag": per_tag,
    }


def sentiment_report(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    pairs = [(g, p) for g, p in zip(gold, predicted) if g is not None]
    confusion = {g: {p: 0 for p in SENTIMENT_LABELS} for g in SENTIMENT_LABELS}
    for g, p in pairs:
        confusion[g][p] += 1
    f1s = []
    for label in SENTIMENT_LABELS:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in SENTIMENT_LABELS) - tp
        fn = sum(confusion[label].values()) - tp
        f1s.append(_prf(tp, fp, fn)["f1"])
    correct = sum(g == p for g, p in pairs)
    return {
        "accuracy": round(correct / len(pairs), 4) if pairs else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4),
        "confusion": confusion,
        "count": len(pairs),
    }


def keyword_baseline(records: Sequence[Record], taxonomy: Taxonomy) -> dict:
    rules = KeywordRules(taxonomy)
    return theme_report([set(r.tags) for r in records], [set(rules.match(r.text)) for r in records], taxonomy.names)


@dataclass(frozen=True)
class Outcomes:
    """Per held-out comment, for paired comparisons (training.paired_bootstrap):
    theme counts [n, (tp, fp, fn)] and sentiment [n, (correct, has gold)]."""

    themes: np.ndarray
    sentiment: np.ndarray

    @classmethod
    def of(cls, records: Sequence[Record], tags: Sequence[set[str]], sentiments: Sequence[str],
           names: Sequence[str]) -> Outcomes:
        known = set(names)  # as theme_report counts
        themes = [(len(g & p), len(p - g), len(g - p))
                  for g, p in ((r.tags & known, p & known) for r, p in zip(records, tags, strict=True))]
        sentiment = [(r.sentiment == s, r.sentiment is not None) for r, s in zip(records, sentiments, strict=True)]
        return cls(np.array(themes, dtype=np.int64).reshape(-1, 3), np.array(sentiment, dtype=np.int64).reshape(-1, 2))


def evaluate(predictor: Predictor, records: Sequence[Record], account: str) -> dict:
    """The full report for one account's labelled records."""
    return evaluate_with_outcomes(predictor, records, account)[0]


def evaluate_with_outcomes(predictor: Predictor, records: Sequence[Record], account: str) -> tuple[dict, Outcomes]:
    """`evaluate`, plus the per-comment outcomes the promotion gate compares."""
    taxonomy = predictor.taxonomy(account)
    predictions = predictor.predict([r.text for r in records], account)
    tags = [set(p.tag_names) for p in predictions]
    sentiments = [p.sentiment.label for p in predictions]
    report = {
        "account": account,
        "model_version": predictor.version,
        "comments": len(records),
        "themes": theme_report([set(r.tags) for r in records], tags, taxonomy.names),
        "sentiment": sentiment_report([r.sentiment for r in records], sentiments),
        "keyword_baseline": keyword_baseline(records, taxonomy),
    }
    return report, Outcomes.of(records, tags, sentiments, taxonomy.names)
