"""Evaluation reports: per-tag precision/recall/F1, micro/macro F1, sentiment accuracy,
macro-F1 and confusion matrix, the same for each gold tag's sentiment, calibration errors, how
well needs_review singles out wrong answers, and the theme figures of keyword rules alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verbatim.models.predictor import Predictor, Scores
from verbatim.models.rules import KeywordRules
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.types import SENTIMENT_LABELS, Prediction
from verbatim.training.calibration import binary_ece, tag_sentiment_cells, top_label_ece
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
    scores = predictor.scores([r.text for r in records])
    predictions = [predictor.decide(r.text, account, *scores.row(i)) for i, r in enumerate(records)]
    tags = [set(p.tag_names) for p in predictions]
    sentiments = [p.sentiment.label for p in predictions]
    report = {
        "account": account,
        "model_version": predictor.version,
        "comments": len(records),
        "themes": theme_report([set(r.tags) for r in records], tags, taxonomy.names),
        "sentiment": sentiment_report([r.sentiment for r in records], sentiments),
        "tag_sentiment": tag_sentiment_report(predictor, records, account, scores),
        "calibration": calibration_report(predictor, records, account, scores),
        "review": review_report(records, predictions),
        "keyword_baseline": keyword_baseline(records, taxonomy),
    }
    return report, Outcomes.of(records, tags, sentiments, taxonomy.names)


def tag_sentiment_report(predictor: Predictor, records: Sequence[Record], account: str, scores: Scores) -> dict:
    """The sentiment predicted about each gold tag (read from its column whether or not the tag
    was predicted, as aspect-category polarity is measured) against the tag's gold sentiment."""
    cells = tag_sentiment_cells(predictor.meta.labels, records, account)
    predicted = [SENTIMENT_LABELS[int(scores.tag_sentiment[i, c].argmax())] for i, c, _ in cells]
    return sentiment_report([gold for *_, gold in cells], predicted)


def calibration_report(predictor: Predictor, records: Sequence[Record], account: str, scores: Scores) -> dict:
    """Expected calibration error of the tag scores (each comment-tag cell), the sentiment's and
    the tags' sentiments' top probability."""
    columns = predictor.meta.labels.indices(account)
    truth = np.array([[tag in r.tags for tag in predictor.meta.labels.tags(account)] for r in records], dtype=float)
    gold = [(i, SENTIMENT_LABELS.index(r.sentiment)) for i, r in enumerate(records) if r.sentiment]
    cells = tag_sentiment_cells(predictor.meta.labels, records, account)
    tag_p = np.array([scores.tag_sentiment[i, c] for i, c, _ in cells]).reshape(-1, len(SENTIMENT_LABELS))
    return {
        "theme_ece": round(binary_ece(scores.themes[:, columns], truth), 4) if columns else None,
        "sentiment_ece": round(top_label_ece(scores.sentiment[[i for i, _ in gold]],
                                             np.array([c for _, c in gold])), 4),
        "tag_sentiment_ece": round(top_label_ece(tag_p, np.array([SENTIMENT_LABELS.index(g) for *_, g in cells])),
                                   4),
    }


def review_report(records: Sequence[Record], predictions: Sequence[Prediction]) -> dict:
    """How many comments needs_review flags, and how often flagged and unflagged comments are
    wrong (a tag set other than the gold one, or a sentiment other than a known gold one).

    `error_ratio_ceiling` is the ratio a perfect flagger would reach flagging as many comments:
    wrong ones first. It says whether the ratio is held back by what is flagged or by how many
    answers are wrong at all (None: that flagger would leave no wrong answer unflagged)."""
    wrong = [set(p.tag_names) != set(r.tags) or (r.sentiment is not None and p.sentiment.label != r.sentiment)
             for r, p in zip(records, predictions, strict=True)]
    flagged = [p.needs_review for p in predictions]
    n, n_wrong, n_flagged = len(wrong), sum(wrong), sum(flagged)
    caught = min(n_wrong, n_flagged)
    missed = n_wrong - caught

    def error_rate(group: bool) -> float | None:
        rows = [w for w, f in zip(wrong, flagged) if f == group]
        return round(sum(rows) / len(rows), 4) if rows else None

    rate_flagged, rate_unflagged = error_rate(True), error_rate(False)
    return {
        "flagged_share": round(sum(flagged) / len(flagged), 4) if flagged else 0.0,
        "error_rate_flagged": rate_flagged,
        "error_rate_unflagged": rate_unflagged,
        "error_ratio": round(rate_flagged / rate_unflagged, 2) if rate_flagged is not None and rate_unflagged else None,
        "error_ratio_ceiling": round((caught / n_flagged) / (missed / (n - n_flagged)), 2) if n_flagged and missed
        else None,
    }
