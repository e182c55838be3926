"""Labelled comments in the seed record format, and the seed corpus's fixed splits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verbatim.models.industries import DEFAULT_INDUSTRY, GENERAL_ACCOUNT, INDUSTRY_TAXONOMIES, template_account
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Taxonomy
from verbatim.models.types import SENTIMENT_LABELS

SEED_DIR = Path(__file__).parent / "data"
SPLITS = ("train", "dev", "test")
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
MAX_TEXT_CHARS = 5000


class CorpusError(ValueError):
    """A data file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    tags: frozenset[str]
    sentiment: str | None
    survey_type: str | None = None
    score: float | None = None
    account: str = DEFAULT_ACCOUNT
    tag_sentiments: tuple[tuple[str, str], ...] = ()  # (tag, sentiment) where labelled per tag

    def tag_sentiment(self, tag: str) -> str | None:
        """The sentiment the comment expresses about `tag`: its own label where given; the comment's
        sentiment for a tag of a comment labelled with none per tag; else unknown."""
        given = dict(self.tag_sentiments)
        if tag in given:
            return given[tag]
        return self.sentiment if tag in self.tags and not given else None


def _check(record: dict, where: str, taxonomy: Taxonomy, account: str) -> Record:
    for key in ("id", "text", "tags"):
        if key not in record:
            raise CorpusError(f"{where}: missing field {key!r}")
    text = record["text"]
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: field 'text' must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise CorpusError(f"{where}: field 'text' has {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
    sentiment = record.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENT_LABELS:
        raise CorpusError(f"{where}: field 'sentiment' is {sentiment!r}, expected one of {list(SENTIMENT_LABELS)}")
    survey_type, score = record.get("survey_type"), record.get("score")
    if survey_type is not None and survey_type not in SCORE_RANGES:
        raise CorpusError(f"{where}: field 'survey_type' is {survey_type!r}, expected one of {list(SCORE_RANGES)}")
    if survey_type is not None and score is not None:
        low, high = SCORE_RANGES[survey_type]
        if not low <= score <= high:
            raise CorpusError(f"{where}: field 'score' is {score}, outside {low}-{high} for {survey_type}")
    tags = record["tags"]
    if not isinstance(tags, list):
        raise CorpusError(f"{where}: field 'tags' must be a list")
    tag_sentiments = record.get("tag_sentiments") or {}
    if not isinstance(tag_sentiments, dict):
        raise CorpusError(f"{where}: field 'tag_sentiments' must be an object of tag -> sentiment")
    for tag, label in tag_sentiments.items():
        if tag not in tags:
            raise CorpusError(f"{where}: field 'tag_sentiments' names {tag!r}, which is not in 'tags'")
        if label not in SENTIMENT_LABELS:
            raise CorpusError(f"{where}: field 'tag_sentiments.{tag}' is {label!r}, "
                              f"expected one of {list(SENTIMENT_LABELS)}")
    return Record(id=str(record["id"]), text=text, tags=frozenset(taxonomy.close(tags)), sentiment=sentiment,
                  survey_type=survey_type, score=score, account=account,
                  tag_sentiments=tuple(sorted(tag_sentiments.items())))


def load_records(path: Path, taxonomy: Taxonomy, account: str = DEFAULT_ACCOUNT) -> list[Record]:
    """Read and validate a JSONL file; unknown tags raise one error naming all of them."""
    records, unknown, seen = [], {}, set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: not valid JSON ({exc.msg})") from None
            for tag in raw.get("tags", []):
                if tag not in taxonomy:
                    unknown.setdefault(tag, where)
            if unknown:
                continue
            record = _check(raw, where, taxonomy, account)
            if record.id in seen:
                raise CorpusError(f"{where}: duplicate id {record.id!r}")
            seen.add(record.id)
            records.append(record)
    if unknown:
        listed = ", ".join(f"{tag!r} (first at {where})" for tag, where in unknown.items())
        raise CorpusError(f"{path}: unknown tags for account {account!r}: {listed}; "
                          f"known tags are {taxonomy.names}")
    return records


def seed_split(split: str, taxonomy: Taxonomy) -> list[Record]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return load_records(SEED_DIR / f"{split}.jsonl", taxonomy)


def industry_split(industry: str, split: str) -> list[Record]:
    """One split of an industry's corpus, as records of its template account (models.industries).

    `saas` is the seed corpus with its fixed files. The other industries keep every comment in
    `data/<industry>/comments-*.jsonl`; a comment's split follows a SHA-256 of its id alone
    (15 % test, 15 % dev, the rest train), so it never moves as comments are added.
    """
    taxonomy = INDUSTRY_TAXONOMIES.get(industry)
    if taxonomy is None:
        raise ValueError(f"industry must be one of {sorted(INDUSTRY_TAXONOMIES)}, got {industry!r}")
    if industry == DEFAULT_INDUSTRY:
        return seed_split(split, taxonomy)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    account = template_account(industry)
    records = [r for path in sorted((SEED_DIR / industry).glob("comments-*.jsonl"))
               for r in load_records(path, taxonomy, account)]
    return [r for r in records if _industry_split_of(r.id) == split]


def general_split(split: str) -> list[Record]:
    """One split of the sentiment-only corpus (`data/general`), as GENERAL_ACCOUNT records without
    tags. Split by id as industry_split does, with no dev part (nothing is tuned on it): its dev
    share trains."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    records = [r for path in sorted((SEED_DIR / "general").glob("comments-*.jsonl"))
               for r in load_records(path, Taxonomy(()), GENERAL_ACCOUNT)]
    wanted = {"train": ("train", "dev"), "dev": (), "test": ("test",)}[split]
    return [r for r in records if _industry_split_of(r.id) in wanted]


def probe(name: str) -> list[Record]:
    """A probe (`data/probes/<name>.jsonl`): a small labelled set that measures one thing and
    trains nothing (its data card says what), as default-account records."""
    path = SEED_DIR / "probes" / f"{name}.jsonl"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.jsonl"))
        raise ValueError(f"no probe named {name!r}; the probes are {known}")
    return load_records(path, Taxonomy(()))


def themed_accounts(records: Iterable[Record]) -> list[str]:
    """The accounts of `records` whose tags are learned, sorted: every one but GENERAL_ACCOUNT,
    whose comments teach sentiment alone."""
    return sorted({r.account for r in records} - {GENERAL_ACCOUNT})


def _industry_split_of(comment_id: str) -> str:
    u = int.from_bytes(hashlib.sha256(comment_id.encode()).digest()[:8], "big") / 2**64
    return "test" if u < 0.15 else "dev" if u < 0.30 else "train"


def fingerprint(records: Iterable[Record]) -> str:
    """A content hash of the training data, stored in the artifact."""
    rows = sorted(json.dumps([r.account, r.id, r.text, sorted(r.tags), r.sentiment]
                             + ([list(r.tag_sentiments)] if r.tag_sentiments else [])) for r in records)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()
