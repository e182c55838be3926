"""`verbatim bench aspects` on a small SemEval-shaped file, with the tiny random encoder."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from verbatim.bench.aspects import format_table, run
from verbatim.bench.datasets import restaurants_dataset
from verbatim.models.encoder import tiny_random_encoder
from verbatim.training.config import TrainingConfig

POLARITIES = ["positive", "negative", "neutral", "conflict"]


def semeval_file(folder: Path) -> Path:
    """Sixty sentences about food, service or both, each category with its own polarity."""
    sentences = []
    for i in range(60):
        food = f'<aspectCategory category="food" polarity="{POLARITIES[i % 4]}"/>'
        service = f'<aspectCategory category="service" polarity="{POLARITIES[(i // 4) % 4]}"/>' if i % 3 else ""
        sentences.append(f'<sentence id="{i}"><text>Sentence {i}: the pasta, and the waiter.</text>'
                         f"<aspectCategories>{food}{service}</aspectCategories></sentence>")
    path = folder / "semeval14_restaurants_train.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<sentences>{"".join(sentences)}</sentences>\n')
    return path


def test_polarity_is_measured_on_every_gold_category_of_the_test_part(tmp_path: Path) -> None:
    path = semeval_file(tmp_path)
    report = run(path, TrainingConfig(epochs=1, batch_size=8), progress=False, encoder_factory=tiny_random_encoder)
    test_ids = {r.id for r in restaurants_dataset(path).test}
    gold = [c.get("polarity") for s in ET.parse(path).getroot().iter("sentence") if f"semeval-{s.get('id')}" in test_ids
            for c in s.iter("aspectCategory")]
    assert report["test_comments"] == len(test_ids) == 12
    assert report["train_comments"] + report["dev_comments"] == 48
    assert report["polarity_4way_cells"] == len(gold)
    assert report["polarity_3way_cells"] == sum(p != "conflict" for p in gold)
    # The model has no conflict class: the 4-way count of right answers is the 3-way one.
    right = round(report["polarity_3way_accuracy"] * report["polarity_3way_cells"])
    assert round(report["polarity_4way_accuracy"] * report["polarity_4way_cells"]) == right
    assert report["epochs"] == 1 and "category micro-F1" in format_table(report)
