"""SemEval-2014 Task 4 restaurant sentences as an account's labelled comments.

The file stands in for a customer account with its own five-tag taxonomy (DESIGN §5, the
`restaurants` benchmark). Each `<sentence>` becomes a Record: its `<aspectCategory>`
categories are the tags, each with its polarity as the tag's sentiment (none for `conflict`),
and, when all its category polarities agree, that polarity is the sentence's sentiment. The data
lives outside the repository and is never copied into it.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from verbatim.bench.data_dir import HOW_TO_POINT, SEMEVAL_FILE, data_dir
from verbatim.models.taxonomy import Tag, Taxonomy
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.corpus import CorpusError, Record

RESTAURANTS_ACCOUNT = "restaurants"
CATEGORY_TAGS = {"food": "food", "service": "service", "price": "price", "ambience": "ambience",
                 "anecdotes/miscellaneous": "misc"}

# Keywords are what an account admin would plausibly type in; "misc" has none on purpose.
RESTAURANTS_TAXONOMY = Taxonomy((
    Tag("food", description="Dishes, taste, menu and drinks.", keywords=("food", "dish", "dishes", "menu")),
    Tag("service", description="Staff, waiters, speed and friendliness of service.",
        keywords=("service", "staff", "waiter", "waitress", "waiters")),
    Tag("price", description="Prices and value for money.",
        keywords=("price", "prices", "expensive", "cheap", "overpriced")),
    Tag("ambience", description="Atmosphere, decor, music, noise and seating.",
        keywords=("ambience", "atmosphere", "decor", "music")),
    Tag("misc", description="Anecdotes and everything else about the visit."),
))


def sentence_sentiment(polarities: Sequence[str]) -> str | None:
    """The sentence's sentiment when every category agrees on one of ours; None when mixed or `conflict`."""
    distinct = set(polarities)
    if len(distinct) == 1 and (label := distinct.pop()) in SENTIMENT_LABELS:
        return label
    return None


def load_semeval(path: Path | None = None, account: str = RESTAURANTS_ACCOUNT) -> list[Record]:
    """Every sentence of the file (default: the data folder's), in file order, as a Record of `account`
    with id `semeval-<id>`."""
    path = path or data_dir() / SEMEVAL_FILE
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise CorpusError(f"{path}: cannot read SemEval XML ({exc}); {HOW_TO_POINT}") from None
    records, seen = [], set()
    for number, sentence in enumerate(root.iter("sentence"), start=1):
        where = f"{path}: sentence #{number}"
        text = (sentence.findtext("text") or "").strip()
        if not text:
            raise CorpusError(f"{where}: empty <text>")
        categories = sentence.findall("aspectCategories/aspectCategory")
        unknown = sorted({c.get("category", "") for c in categories} - set(CATEGORY_TAGS))
        if unknown:
            raise CorpusError(f"{where}: unknown categories {unknown}; known are {sorted(CATEGORY_TAGS)}")
        record_id = f"semeval-{sentence.get('id', number)}"
        if record_id in seen:
            raise CorpusError(f"{where}: duplicate id {record_id!r}")
        seen.add(record_id)
        polarities = category_polarities(sentence)
        records.append(Record(
            id=record_id, text=text, account=account, tags=frozenset(polarities),
            sentiment=sentence_sentiment(list(polarities.values())),
            tag_sentiments=tuple(sorted((t, p) for t, p in polarities.items() if p in SENTIMENT_LABELS))))
    return records


def category_polarities(sentence: ET.Element) -> dict[str, str]:
    """A `<sentence>`'s polarity per category, by tag name: positive, negative, neutral or conflict.
    A Record keeps the first three as its tag sentiments; a `conflict` category has none."""
    return {CATEGORY_TAGS[c.get("category", "")]: c.get("polarity", "")
            for c in sentence.findall("aspectCategories/aspectCategory")}


def split_records(records: Sequence[Record], train_fraction: float = 0.8,
                  seed: int = 13) -> tuple[list[Record], list[Record]]:
    """A seeded shuffle cut into (train, rest); the same seed gives the same split."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    cut = round(len(shuffled) * train_fraction)
    return shuffled[:cut], shuffled[cut:]


def per_tag_sample(records: Sequence[Record], per_tag: int, seed: int = 13) -> list[Record]:
    """A few-shot slice: records drawn until every tag has at least `per_tag` examples (or none are left)."""
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    counts: dict[str, int] = {}
    chosen = []
    for record in shuffled:
        if any(counts.get(tag, 0) < per_tag for tag in record.tags):
            chosen.append(record)
            for tag in record.tags:
                counts[tag] = counts.get(tag, 0) + 1
    return chosen
