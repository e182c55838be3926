"""Deterministic train / dev / held-out splits of each account's corrected comments (DESIGN §5 step 2).

A comment's split depends only on a SHA-256 of (account, comment id), never on Python's
salted hash() or on which other comments exist, so a held-out comment stays held out
across runs as corrections accumulate and is never trained on. Seed records keep the seed
corpus's fixed splits: seed test is the default account's held-out data for the gate.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Taxonomy
from verbatim.store import Store
from verbatim.models.industries import DEFAULT_INDUSTRY, INDUSTRY_TAXONOMIES, TEMPLATE_PREFIX
from verbatim.training.corpus import SPLITS, Record, general_split, industry_split, seed_split
from verbatim.training.corrections import correction_records, replace_seed
from verbatim.training.retrain_report import MIN_GATE_COMMENTS

TRAIN, DEV, HELDOUT = "train", "dev", "heldout"
SEED_TO_SPLIT = {"train": TRAIN, "dev": DEV, "test": HELDOUT}


@dataclass(frozen=True)
class HoldoutConfig:
    """Fractions of each account's corrected comments kept out of training."""

    heldout_fraction: float = 0.15
    dev_fraction: float = 0.10
    # An account is split only once its held-out slice would hold this many comments (200
    # corrected comments at the defaults; the gate's own minimum). A smaller account
    # trains on every comment: the gate could not judge it on fewer, and a dev slice that
    # small tunes no threshold. On SemEval at 16 examples per tag (65 comments) that is 65
    # comments to learn from instead of 52.
    min_heldout: int = MIN_GATE_COMMENTS

    def __post_init__(self) -> None:
        for name in ("heldout_fraction", "dev_fraction"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"HoldoutConfig.{name} must be in [0, 1), got {getattr(self, name)}")
        if self.heldout_fraction + self.dev_fraction >= 1:
            raise ValueError(f"HoldoutConfig.heldout_fraction + dev_fraction must be < 1, got "
                             f"{self.heldout_fraction} + {self.dev_fraction}")
        if self.min_heldout < 1:
            raise ValueError(f"HoldoutConfig.min_heldout must be >= 1, got {self.min_heldout}")

    def splits_account(self, comments: int) -> bool:
        """Whether an account with this many corrected comments is split, or trains on all of them."""
        return comments * self.heldout_fraction >= self.min_heldout


@dataclass(frozen=True)
class Splits:
    """Records by split. `seed_ids` names the default-account records that came from the seed
    corpus unchanged (labelled against the seed taxonomy only)."""

    train: list[Record]
    dev: list[Record]
    heldout: list[Record]
    seed_ids: frozenset[str] = field(default_factory=frozenset)

    def by_account(self, split: str) -> dict[str, list[Record]]:
        grouped: dict[str, list[Record]] = defaultdict(list)
        for record in getattr(self, split):
            grouped[record.account].append(record)
        return dict(grouped)

    def from_seed(self, record: Record) -> bool:
        return from_seed_corpora(record, self.seed_ids)

    def corrections(self, split: str) -> list[Record]:
        """The split's records that came from the store's corrections."""
        return [r for r in getattr(self, split) if not self.from_seed(r)]

    @property
    def accounts(self) -> list[str]:
        return sorted({r.account for r in (*self.train, *self.dev, *self.heldout)})


def from_seed_corpora(record: Record, seed_ids: frozenset[str]) -> bool:
    """Whether a record came from the seed corpora (an industry template's, the sentiment-only
    corpus's, or the default account's unchanged: `seed_ids`) rather than from the store's corrections."""
    return record.account.startswith(TEMPLATE_PREFIX) or (record.account == DEFAULT_ACCOUNT and record.id in seed_ids)


def position(account: str, comment_id: str) -> float:
    """A stable, uniform number in [0, 1) for one comment of one account."""
    digest = hashlib.sha256(f"{account}\x1f{comment_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_corrections(records: Sequence[Record], config: HoldoutConfig = HoldoutConfig()) -> Splits:
    """Split corrected comments per account by `position`; order within a split follows the input.

    An account too small to split (HoldoutConfig.min_heldout) has all its comments in train.
    Once it grows past that, its held-out comments may include some an earlier champion
    trained on; the retrain job leaves those out of judging (training.lineage).
    """
    counts = Counter(r.account for r in records)
    assigned: dict[int, str] = {}
    for i, record in enumerate(records):
        u = position(record.account, record.id)
        if not config.splits_account(counts[record.account]):
            assigned[i] = TRAIN
        elif u < config.heldout_fraction:
            assigned[i] = HELDOUT
        elif u < config.heldout_fraction + config.dev_fraction:
            assigned[i] = DEV
        else:
            assigned[i] = TRAIN
    return Splits(train=[r for i, r in enumerate(records) if assigned[i] == TRAIN],
                  dev=[r for i, r in enumerate(records) if assigned[i] == DEV],
                  heldout=[r for i, r in enumerate(records) if assigned[i] == HELDOUT])


def with_seed(splits: Splits, seed: Mapping[str, Sequence[Record]], seed_ids: frozenset[str] = frozenset()) -> Splits:
    """Add the seed corpus in its fixed splits: train to train, dev to dev, test to held-out."""
    unknown = set(seed) - set(SEED_TO_SPLIT)
    if unknown:
        raise ValueError(f"unknown seed splits {sorted(unknown)}; expected {sorted(SEED_TO_SPLIT)}")
    extra: dict[str, list[Record]] = {TRAIN: [], DEV: [], HELDOUT: []}
    for name, records in seed.items():
        extra[SEED_TO_SPLIT[name]].extend(records)
    return Splits(train=[*extra[TRAIN], *splits.train], dev=[*extra[DEV], *splits.dev],
                  heldout=[*extra[HELDOUT], *splits.heldout], seed_ids=splits.seed_ids | seed_ids)


def build_splits(store: Store, taxonomies: Mapping[str, Taxonomy], config: HoldoutConfig = HoldoutConfig(),
                 include_seed: bool = True) -> Splits:
    """The retraining dataset: hashed splits of the store's corrections plus, unless turned off,
    the seed corpus in its fixed splits, where a matching default-account correction overrules it,
    and the other industries' corpora as their template accounts (models.industries), so every
    challenger still serves each industry's default taxonomy, and the sentiment-only corpus."""
    corrected = correction_records(store, taxonomies)
    if not include_seed:
        return split_corrections(corrected, config)
    default = taxonomies.get(DEFAULT_ACCOUNT, DEFAULT_TAXONOMY)
    # Seed tags the account has deleted since are dropped; their ancestors stay, as the seed closed them.
    seed = {split: [Record(id=r.id, text=r.text, tags=frozenset(t for t in r.tags if t in default),
                           sentiment=r.sentiment, survey_type=r.survey_type, score=r.score)
                    for r in seed_split(split, DEFAULT_TAXONOMY)] for split in SPLITS}
    seed, rest = replace_seed(seed, corrected)
    seed_ids = frozenset(r.id for records in seed.values() for r in records) - {r.id for r in corrected}
    for split, records in seed.items():  # the other industries' default accounts ride along unchanged
        records.extend(r for industry in INDUSTRY_TAXONOMIES if industry != DEFAULT_INDUSTRY
                       for r in industry_split(industry, split))
    seed["train"].extend(general_split("train"))  # sentiment only: nothing to judge a challenger's tags on
    return with_seed(split_corrections(rest, config), seed, seed_ids)


def dataset_counts(splits: Splits) -> dict:
    """Per account: comments per split, how many came from corrections or the seed, training positives per tag."""
    accounts = {}
    grouped = {name: splits.by_account(name) for name in (TRAIN, DEV, HELDOUT)}
    for account in splits.accounts:
        rows = {name: grouped[name].get(account, []) for name in (TRAIN, DEV, HELDOUT)}
        seed = sum(splits.from_seed(r) for records in rows.values() for r in records)
        positives = Counter(tag for r in rows[TRAIN] for tag in r.tags)
        accounts[account] = {**{name: len(records) for name, records in rows.items()},
                             "corrections": sum(map(len, rows.values())) - seed, "seed": seed,
                             "positives": dict(sorted(positives.items()))}
    return {"accounts": accounts, TRAIN: len(splits.train), DEV: len(splits.dev), HELDOUT: len(splits.heldout)}
