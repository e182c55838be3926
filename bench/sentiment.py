"""`verbatim bench sentiment`: the champion's comment-level sentiment beside VADER, in one run.

Both label the same texts of every source and are scored with the same function
(`training.evaluate.sentiment_report`): accuracy and macro-F1 over the three classes
negative / neutral / positive. Sources:

- `semeval14_restaurants`: the SemEval-2014 restaurant sentences of the 20 % test part of the
  benchmarks' fixed 80/20 split (`bench.datasets.restaurants_dataset`). A sentence's gold label is
  its category polarity when all its categories agree; sentences with mixed polarities or
  `conflict` have none and are left out (counted as `left_out`). The champion never trained on
  this data, so this row says whether its sentiment travels to another domain.
- `saas`, `ecommerce`, `media`: the test split of each industry's own corpus
  (`training.corpus.industry_split`); comments without a sentiment are left out likewise.
- `general`: the sentiment-only corpus's test split (other kinds of business).
- `emoji`: the emoji probe (`training/data/probes/emoji.jsonl`), comments whose emoji carry
  much of their sentiment, written apart from the corpora and never trained on.

The model's label is the argmax of `Predictor.scores(texts).sentiment` (columns negative,
neutral, positive). VADER (the `vaderSentiment` package, in the `bench` extra) labels a text by
its `compound` score with the thresholds that VADER's documentation recommends: >= 0.05
positive, <= -0.05 negative, anything between neutral.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from verbatim.bench.data_dir import SEMEVAL_FILE, data_dir
from verbatim.bench.datasets import restaurants_dataset
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.corpus import Record
from verbatim.training.evaluate import sentiment_report

VADER_POSITIVE = 0.05  # compound >= this: positive (VADER's documented threshold)
VADER_NEGATIVE = -0.05  # compound <= this: negative; strictly between the two: neutral
VADER_MISSING = ("`verbatim bench sentiment` compares with VADER, which is not installed: "
                 "pip install 'verbatim[bench]' (or pip install vaderSentiment)")
CHUNK = 256  # texts per progress-bar step of the model


class SentimentScorer(Protocol):
    def scores(self, texts: Sequence[str]) -> Any: ...  # .sentiment: [n, 3] in SENTIMENT_LABELS order


@dataclass(frozen=True)
class Source:
    """The texts of one source that have a gold sentiment, and how many without one were left out."""

    name: str
    texts: list[str]
    gold: list[str]
    left_out: int = 0

    @classmethod
    def from_records(cls, name: str, records: Iterable[Record]) -> "Source":
        records = list(records)
        kept = [r for r in records if r.sentiment is not None]
        return cls(name, [r.text for r in kept], [str(r.sentiment) for r in kept], len(records) - len(kept))


def require_vader() -> None:
    """RuntimeError saying what to install when vaderSentiment is missing."""
    if importlib.util.find_spec("vaderSentiment") is None:
        raise RuntimeError(VADER_MISSING)


def vader_label(compound: float) -> str:
    """VADER's documented reading of a compound score."""
    if compound >= VADER_POSITIVE:
        return "positive"
    if compound <= VADER_NEGATIVE:
        return "negative"
    return "neutral"


def vader_labels(texts: Sequence[str], progress: bool = False) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [vader_label(analyzer.polarity_scores(text)["compound"])
            for text in tqdm(texts, desc="VADER", unit="text", disable=not progress)]


def model_labels(predictor: SentimentScorer, texts: Sequence[str], progress: bool = False) -> list[str]:
    """The argmax of the model's sentiment probabilities for each text, in order."""
    labels: list[str] = []
    with tqdm(total=len(texts), desc="model", unit="text", disable=not progress) as bar:
        for start in range(0, len(texts), CHUNK):
            chunk = list(texts[start:start + CHUNK])
            probabilities = np.asarray(predictor.scores(chunk).sentiment)
            if probabilities.shape != (len(chunk), len(SENTIMENT_LABELS)):
                raise ValueError(f"sentiment scores have shape {probabilities.shape}, "
                                 f"expected ({len(chunk)}, {len(SENTIMENT_LABELS)})")
            labels.extend(SENTIMENT_LABELS[i] for i in probabilities.argmax(axis=1))
            bar.update(len(chunk))
    return labels


def default_sources(semeval_path: Path | None = None) -> list[Source]:
    """SemEval-2014 restaurants (the test part), every industry's test split, the sentiment-only
    corpus's (training/data/general: other kinds of business) and the emoji probe."""
    from verbatim.models.industries import INDUSTRY_TAXONOMIES
    from verbatim.training.corpus import general_split, industry_split, probe

    restaurants = restaurants_dataset(semeval_path or data_dir() / SEMEVAL_FILE)
    sources = [Source.from_records(restaurants.name, restaurants.test)]
    sources += [Source.from_records(industry, industry_split(industry, "test")) for industry in INDUSTRY_TAXONOMIES]
    return [*sources, Source.from_records("general", general_split("test")),
            Source.from_records("emoji", probe("emoji"))]


def compare(predictor: SentimentScorer, sources: Sequence[Source], progress: bool = False,
            vader: Callable[[Sequence[str], bool], list[str]] = vader_labels) -> dict:
    """The report: per source, the model's and VADER's sentiment_report on the same texts."""
    rows = []
    for source in sources:
        if progress:
            tqdm.write(f"{source.name}: {len(source.texts)} texts", file=sys.stderr)
        model = sentiment_report(source.gold, model_labels(predictor, source.texts, progress))
        baseline = sentiment_report(source.gold, vader(source.texts, progress))
        rows.append({"source": source.name, "n": len(source.texts), "left_out": source.left_out,
                     "model": model, "vader": baseline,
                     "accuracy_difference": round(model["accuracy"] - baseline["accuracy"], 4),
                     "macro_f1_difference": round(model["macro_f1"] - baseline["macro_f1"], 4)})
    return {"model_version": getattr(predictor, "version", None),
            "vader_thresholds": {"positive": VADER_POSITIVE, "negative": VADER_NEGATIVE},
            "sources": rows}


def run(registry: Path, semeval_path: Path | None = None, device: str = "cpu", progress: bool = True) -> dict:
    """Load the registry's champion and compare it with VADER on the default sources."""
    from verbatim.models.loading import load_predictor
    from verbatim.models.registry import Registry

    require_vader()
    champion = Registry(registry).champion_path()
    if champion is None:
        raise RuntimeError(f"no champion in the registry at {registry}; run `verbatim train` first or pass --registry")
    sources = default_sources(semeval_path)  # a missing data file fails before the model loads
    return compare(load_predictor(champion, backend="torch", device=device), sources, progress)


def format_table(report: dict) -> str:
    header = (f"{'source':<22} {'n':>5} {'left out':>8} {'model acc':>9} {'model F1':>8} "
              f"{'VADER acc':>9} {'VADER F1':>8} {'acc diff':>8}")
    lines = [f"champion {report['model_version']} vs VADER (compound >= {VADER_POSITIVE} positive, "
             f"<= {VADER_NEGATIVE} negative); F1 is macro over {'/'.join(SENTIMENT_LABELS)}", header,
             "-" * len(header)]
    for row in report["sources"]:
        lines.append(f"{row['source']:<22} {row['n']:>5} {row['left_out']:>8} {row['model']['accuracy']:>9.3f} "
                     f"{row['model']['macro_f1']:>8.3f} {row['vader']['accuracy']:>9.3f} "
                     f"{row['vader']['macro_f1']:>8.3f} {row['accuracy_difference']:>+8.3f}")
    return "\n".join(lines)
