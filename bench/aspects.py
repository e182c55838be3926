"""`verbatim bench aspects`: sentiment per tag on SemEval-2014 restaurants, the public benchmark of
aspect-category polarity.

The restaurants account is trained the full way (`training.train`, from the original encoder) on
the benchmarks' fixed 80 % (`bench.datasets.restaurants_dataset`), with 15 % of it kept for dev
(thresholds and calibration), and measured on the 20 %:
- category detection: the account's theme micro-F1 (as `training.evaluate` reports it);
- category polarity, 3-way: for every gold category whose polarity is positive, negative or
  neutral, the model's sentiment about that category (its tag sentiment, read whether or not the
  category was detected, as the task measures polarity given the category);
- 4-way: the same over every gold category, `conflict` included. The model has no conflict
  class, so those count as wrong: the figure is what the product would score on the task's rule.

`--tag-sentiment-weight 0` trains without the per-tag loss: its category micro-F1 beside the
default run's shows what learning sentiment per tag costs or gains in detection.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

from verbatim.bench.datasets import restaurants_dataset
from verbatim.bench.semeval import RESTAURANTS_ACCOUNT, category_polarities, split_records
from verbatim.models.encoder import load_base_encoder
from verbatim.models.predictor import Predictor
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.config import TrainingConfig
from verbatim.training.evaluate import evaluate
from verbatim.training.train import EncoderFactory, train

DEV_FRACTION = 0.15  # of the 80 %: thresholds and temperatures are chosen on it
SEED = 13


def run(path: Path, config: TrainingConfig = TrainingConfig(), progress: bool = True,
        encoder_factory: EncoderFactory = load_base_encoder) -> dict:
    """Train the restaurants account on the 80 % and report category and polarity figures on the 20 %."""
    dataset = restaurants_dataset(path, SEED)
    fit, dev = split_records(dataset.train, 1 - DEV_FRACTION, SEED)
    started = time.monotonic()
    artifact = train(fit, dev, {RESTAURANTS_ACCOUNT: dataset.taxonomy}, config, "bench-aspects", encoder_factory,
                     progress)
    seconds = time.monotonic() - started
    predictor = Predictor(artifact)
    report = evaluate(predictor, dataset.test, RESTAURANTS_ACCOUNT)
    polarities = {f"semeval-{s.get('id')}": category_polarities(s) for s in ET.parse(path).getroot().iter("sentence")}
    scores = predictor.scores([r.text for r in dataset.test])
    labels = artifact.meta.labels
    columns = dict(zip(labels.tags(RESTAURANTS_ACCOUNT), labels.indices(RESTAURANTS_ACCOUNT)))
    cells = [(SENTIMENT_LABELS[int(scores.tag_sentiment[i, columns[tag]].argmax())], gold)
             for i, record in enumerate(dataset.test) for tag, gold in sorted(polarities[record.id].items())]
    three = [(p, g) for p, g in cells if g in SENTIMENT_LABELS]
    return {
        "train_comments": len(fit), "dev_comments": len(dev), "test_comments": len(dataset.test),
        "training_seconds": round(seconds, 1),
        "tag_sentiment_weight": config.tag_sentiment_weight, "epochs": config.epochs,
        "category_micro_f1": report["themes"]["micro_f1"],
        "keyword_baseline_micro_f1": report["keyword_baseline"]["micro_f1"],
        "polarity_3way_accuracy": round(sum(p == g for p, g in three) / len(three), 4),
        "polarity_3way_cells": len(three),
        "polarity_4way_accuracy": round(sum(p == g for p, g in cells) / len(cells), 4),
        "polarity_4way_cells": len(cells),
        "tag_sentiment": report["tag_sentiment"],
        "calibration": report["calibration"],
        "review": report["review"],
    }


def format_table(report: dict) -> str:
    rows = [("category micro-F1", report["category_micro_f1"]),
            ("  keyword rules alone", report["keyword_baseline_micro_f1"]),
            (f"polarity 3-way accuracy ({report['polarity_3way_cells']} categories)", report["polarity_3way_accuracy"]),
            (f"polarity 4-way accuracy ({report['polarity_4way_cells']}, conflict included)",
             report["polarity_4way_accuracy"]),
            ("needs_review flagged share", report["review"]["flagged_share"]),
            ("  error ratio flagged / unflagged", report["review"]["error_ratio"])]
    width = max(len(name) for name, _ in rows)
    head = (f"SemEval-2014 restaurants: trained on {report['train_comments']} (+{report['dev_comments']} dev), "
            f"measured on {report['test_comments']}; {report['epochs']} epochs, tag sentiment weight "
            f"{report['tag_sentiment_weight']}")
    return "\n".join([head, *(f"  {name:<{width}}  {value}" for name, value in rows)])
