"""The labelled data of `verbatim bench corrections`: accounts, their taxonomies, splits and samples.

Two public data sets stand in for customer accounts (../shared/data/README.md): SemEval-2014
restaurant sentences (5 tags, multi-label) and BANKING77 queries (77 tags, one per query).
Each becomes a `BenchDataset`: the account's taxonomy, as an admin would type it in, and an
80/20 split made with a fixed seed. `cumulative_samples` draws the "k examples per tag"
slices that the benchmark replays as corrections.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from verbatim.bench.data_dir import HOW_TO_POINT
from verbatim.models.taxonomy import Tag, Taxonomy
from verbatim.training.corpus import CorpusError, Record
from verbatim.bench.semeval import RESTAURANTS_ACCOUNT, RESTAURANTS_TAXONOMY, load_semeval, split_records

BANKING_ACCOUNT = "banking77"
TRAIN_FRACTION = 0.8

# What a restaurant's admin would plausibly type in, from domain knowledge; never tuned on
# the data. Plurals are spelled out because rules match whole words. "misc" has no keywords.
RESTAURANT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "food": ("food", "dish", "dishes", "meal", "meals", "menu", "cuisine", "pizza", "pasta", "sushi", "burger",
             "burgers", "steak", "chicken", "fish", "salad", "dessert", "desserts", "appetizer", "appetizers",
             "entree", "entrees", "portion", "portions", "delicious", "tasty", "bland", "flavor", "flavors",
             "drinks", "wine"),
    "service": ("service", "staff", "waiter", "waiters", "waitress", "waitresses", "server", "servers", "host",
                "hostess", "manager", "rude", "attentive", "polite"),
    "price": ("price", "prices", "priced", "pricey", "pricing", "expensive", "inexpensive", "cheap", "overpriced",
              "affordable", "value", "bill", "cost", "costs", "money", "dollars"),
    "ambience": ("ambience", "ambiance", "atmosphere", "decor", "music", "noisy", "loud", "quiet", "cozy", "romantic",
                 "lighting", "interior", "crowded", "vibe"),
    "misc": (),
}
# Words of intent names that say nothing about the intent on their own.
_STOPWORDS = frozenset({"a", "about", "after", "an", "and", "by", "for", "from", "get", "getting", "if", "in", "into",
                        "is", "my", "not", "of", "on", "or", "the", "to", "up", "via", "why"})


@dataclass(frozen=True)
class BenchDataset:
    """One benchmark account: its taxonomy and its data, split into replayed and measured parts."""

    name: str
    account: str
    taxonomy: Taxonomy
    train: list[Record]  # replayed as corrections, k examples per tag at a time
    test: list[Record]  # classified through the server after every step


def restaurants_taxonomy() -> Taxonomy:
    """The restaurants account: SemEval's five categories with the keywords above."""
    return Taxonomy(tuple(Tag(t.name, description=t.description, keywords=RESTAURANT_KEYWORDS[t.name])
                          for t in RESTAURANTS_TAXONOMY.tags))


def restaurants_dataset(path: Path, seed: int = 13) -> BenchDataset:
    """SemEval-2014 restaurants, split 80/20 with `seed`."""
    train, test = split_records(load_semeval(path, RESTAURANTS_ACCOUNT), TRAIN_FRACTION, seed)
    return BenchDataset("semeval14_restaurants", RESTAURANTS_ACCOUNT, restaurants_taxonomy(), train, test)


def load_banking77(path: Path, account: str = BANKING_ACCOUNT) -> list[Record]:
    """BANKING77's `text,category` CSV as single-tag Records with ids `banking77-<row>`."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not {"text", "category"} <= set(reader.fieldnames or ()):
                raise CorpusError(f"{path}: expected the columns text,category, got {reader.fieldnames}")
            records = []
            for row_number, row in enumerate(reader, start=2):  # row 1 is the header
                text, category = (row.get("text") or "").strip(), (row.get("category") or "").strip()
                if not text or not category:
                    raise CorpusError(f"{path}:{row_number}: empty text or category")
                records.append(Record(id=f"banking77-{row_number}", text=text, tags=frozenset({category}),
                                      sentiment=None, account=account))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"{path}: cannot read the BANKING77 CSV ({exc}); {HOW_TO_POINT}") from None
    if not records:
        raise CorpusError(f"{path}: no rows")
    return records


def banking_taxonomy(intents: Sequence[str]) -> Taxonomy:
    """One tag per intent, its keywords taken from the intent's name alone.

    Each tag matches its name as a phrase ("card arrival") and every word of the name that
    no other intent's name uses ("arrival"); a word shared by several intents ("card")
    would only add wrong tags.
    """
    words = {intent: [w for w in re.split(r"[_\W]+", intent.lower()) if w] for intent in intents}
    usage = Counter(w for ws in words.values() for w in set(ws))
    tags = []
    for intent in intents:
        own = [w for w in words[intent] if usage[w] == 1 and w not in _STOPWORDS]
        phrase = " ".join(words[intent])
        keywords = tuple(dict.fromkeys([phrase, *own]))  # unique, in order
        tags.append(Tag(intent, description=f"BANKING77 intent {intent}.", keywords=keywords))
    return Taxonomy(tuple(tags))


def banking_dataset(path: Path, seed: int = 13) -> BenchDataset:
    """BANKING77, split 80/20 with `seed`; the tags are the intents in order of first appearance."""
    records = load_banking77(path)
    intents = list(dict.fromkeys(tag for r in records for tag in sorted(r.tags)))
    train, test = split_records(records, TRAIN_FRACTION, seed)
    return BenchDataset("banking77", BANKING_ACCOUNT, banking_taxonomy(intents), train, test)


def parse_steps(text: str) -> tuple[int | None, ...]:
    """"8,16,64,all" -> (8, 16, 64, None): increasing counts per tag, `all` only last."""
    steps: list[int | None] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if part == "all":
            steps.append(None)
            continue
        if steps and steps[-1] is None:
            raise ValueError(f"{text!r}: 'all' must be the last step")
        try:
            k = int(part)
        except ValueError:
            raise ValueError(f"{text!r}: {part!r} is neither a whole number nor 'all'") from None
        if k < 1 or (steps and k <= steps[-1]):  # type: ignore[operator]
            raise ValueError(f"{text!r}: steps must be positive and increasing")
        steps.append(k)
    if not steps or steps.count(None) > 1:
        raise ValueError(f"{text!r}: expected e.g. 8,16,64,all")
    return tuple(steps)


def cumulative_samples(records: Sequence[Record], steps: Sequence[int | None], seed: int = 13) -> list[list[Record]]:
    """One sample per step, each containing the one before, with at least k records for every tag.

    One seeded shuffle is walked from the start at every step, taking each record not yet
    taken that has a tag still short of k (a record counts for all its tags); a tag with
    fewer than k records gets them all. `None` means every record.
    """
    order = list(records)
    random.Random(seed).shuffle(order)
    chosen: list[Record] = []
    taken: set[str] = set()
    counts: Counter[str] = Counter()
    samples = []
    for k in steps:
        for record in order:
            if record.id in taken or not (k is None or any(counts[t] < k for t in record.tags)):
                continue
            chosen.append(record)
            taken.add(record.id)
            counts.update(record.tags)
        samples.append(list(chosen))
    return samples
