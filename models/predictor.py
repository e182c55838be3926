"""predict(): text in, tags and sentiment out, for any account in the artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from verbatim.models.artifact import Artifact
from verbatim.models.backend import InferenceBackend, TorchBackend
from verbatim.models.decision import TagScore, decide_tags, needs_review
from verbatim.models.industries import INDUSTRY_TAXONOMIES, template_account
from verbatim.models.original_encoder import OriginalColumns, OriginalRunner
from verbatim.models.rules import KeywordRules
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.types import Prediction, Sentiment


class UnknownAccountError(KeyError):
    """The account has no taxonomy in this model."""


@dataclass(frozen=True)
class Scores:
    """Raw head outputs for a batch: theme probabilities [n, labels], sentiment [n, 3] and the
    sentiment about each label [n, labels, 3]."""

    themes: np.ndarray
    sentiment: np.ndarray
    tag_sentiment: np.ndarray

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One comment's scores, as decide() takes them."""
        return self.themes[i], self.sentiment[i], self.tag_sentiment[i]


@dataclass(frozen=True)
class _AccountView:
    taxonomy: Taxonomy
    rules: KeywordRules
    columns: list[int]
    tags: list[str]
    thresholds: list[float]
    rule_thresholds: list[float]
    count: TagCount
    review_cutoff: float
    original: bool  # its columns come from the original encoder (models.original_encoder)


class Predictor:
    """Wraps an artifact. encode() and infer() are split so a batcher can mix requests
    and accounts in one forward pass; decide() turns one row of scores into a Prediction."""

    def __init__(self, artifact: Artifact, backend: InferenceBackend | None = None,
                 taxonomies: dict[str, Taxonomy] | None = None,
                 industries: Mapping[str, str] | None = None) -> None:
        self.artifact = artifact
        self.industries = dict(industries or {})  # account -> industry (models.industries), for _view
        self.backend = backend or TorchBackend(artifact.net)
        self.meta = artifact.meta
        self.version = artifact.meta.version
        self._pad_id = artifact.tokenizer.pad_token_id or 0
        # The original encoder's columns: the backend's own runner of them (onnx), or the artifact's torch module.
        self.original: OriginalRunner | None = getattr(self.backend, "original", None) or artifact.original
        if isinstance(self.original, OriginalColumns):  # the second encoder runs where the first does
            self.original.to(getattr(self.backend, "device", "cpu"))
        if self.original is not None:
            self._original_columns = np.asarray(self.original.columns)
        taxonomies = self.meta.taxonomies if taxonomies is None else taxonomies
        self._views = {account: self._view(account, taxonomy) for account, taxonomy in taxonomies.items()}

    @classmethod
    def load(cls, directory: Path) -> "Predictor":
        return cls(Artifact.load(directory))

    def with_taxonomies(self, taxonomies: dict[str, Taxonomy],
                        industries: Mapping[str, str] | None = None) -> "Predictor":
        """The same model and backend, with rules and tags from live taxonomies (e.g. the store).

        An account the model was not trained on is served by its industry's template heads
        (`industries`: account -> industry) for its tags that the template has, and by keyword
        rules for the others (all of them without an industry); a tag deleted since training is
        no longer returned.
        """
        return Predictor(self.artifact, self.backend, taxonomies, industries)

    @property
    def accounts(self) -> list[str]:
        return sorted(self._views)

    def taxonomy(self, account: str) -> Taxonomy:
        return self._account(account).taxonomy

    def _view(self, account: str, taxonomy: Taxonomy) -> _AccountView:
        labels = self.meta.labels.labels
        heads, only_known = account, False
        industry = self.industries.get(account)
        if industry in INDUSTRY_TAXONOMIES and not any(a == account for a, _ in labels):
            # Not trained on: its industry's template heads serve the tags they share by name.
            heads, only_known = template_account(industry), True
        pairs = [(c, tag) for c, (a, tag) in enumerate(labels) if a == heads and (not only_known or tag in taxonomy)]
        columns = [c for c, _ in pairs]
        return _AccountView(taxonomy=taxonomy, rules=KeywordRules(taxonomy), columns=columns,
                            tags=[tag for _, tag in pairs],
                            thresholds=[self.meta.thresholds[c] for c in columns],
                            rule_thresholds=[self.meta.rule_thresholds[c] for c in columns],
                            count=self.meta.tag_count(heads), review_cutoff=self.meta.review_cutoff(heads),
                            original=heads in self.meta.original_accounts)

    def _account(self, account: str) -> _AccountView:
        try:
            return self._views[account]
        except KeyError:
            raise UnknownAccountError(account) from None

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated to the artifact's max_length."""
        return self.artifact.tokenizer(list(texts), truncation=True, max_length=self.meta.max_length)["input_ids"]

    def infer(self, token_ids: Sequence[Sequence[int]], accounts: Sequence[str] | None = None) -> Scores:
        """One forward pass over a batch of encoded texts.

        Rows of `accounts` served from the original encoder (all rows when `accounts` is None)
        get a second pass through it, for those accounts' columns only.
        """
        width = max(len(ids) for ids in token_ids)
        input_ids = np.full((len(token_ids), width), self._pad_id, dtype=np.int64)
        attention = np.zeros((len(token_ids), width), dtype=np.int64)
        for i, ids in enumerate(token_ids):
            input_ids[i, : len(ids)] = ids
            attention[i, : len(ids)] = 1
        scores = Scores(*self.backend.run(input_ids, attention))
        if self.original is not None:
            rows = np.asarray([i for i, account in enumerate(accounts) if self._uses_original(account)]
                              if accounts is not None else range(len(token_ids)), dtype=np.int64)
            if len(rows):
                scores.themes[np.ix_(rows, self._original_columns)] = \
                    self.original.probabilities(input_ids[rows], attention[rows])
        return scores

    def _uses_original(self, account: str) -> bool:
        view = self._views.get(account)
        return view is not None and view.original

    def decide(self, text: str, account: str, themes: np.ndarray, sentiment: np.ndarray,
               tag_sentiment: np.ndarray) -> Prediction:
        """Tags and sentiment for one comment, from its row of scores (Scores.row)."""
        view = self._account(account)
        scores = [TagScore(tag, float(themes[c]), t, r)
                  for tag, c, t, r in zip(view.tags, view.columns, view.thresholds, view.rule_thresholds)]
        tags = decide_tags(view.taxonomy, scores, view.rules.match(text), view.count)
        review = needs_review(scores, float(sentiment.max()), view.review_cutoff)
        overall = Sentiment.from_probabilities(sentiment.tolist())
        column = dict(zip(view.tags, view.columns))
        # A tag without a model column (added by its rule alone) says what the comment says.
        tags = tuple(replace(t, sentiment=Sentiment.from_probabilities(tag_sentiment[column[t.name]].tolist())
                             if t.name in column else overall) for t in tags)
        return Prediction(tags=tags, sentiment=overall, needs_review=review)

    def scores(self, texts: Sequence[str], batch_size: int = 32) -> Scores:
        """Head outputs for many texts, in order, computed in length-sorted batches."""
        encoded = self.encode(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        labels = len(self.meta.labels)
        out = Scores(themes=np.zeros((len(texts), labels), dtype=np.float32),
                     sentiment=np.zeros((len(texts), 3), dtype=np.float32),
                     tag_sentiment=np.zeros((len(texts), labels, 3), dtype=np.float32))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = self.infer([encoded[i] for i in chunk])
            out.themes[chunk], out.sentiment[chunk], out.tag_sentiment[chunk] = (
                batch.themes, batch.sentiment, batch.tag_sentiment)
        return out

    def predict(self, texts: Sequence[str], account: str, batch_size: int = 32) -> list[Prediction]:
        """Tags and sentiment for each text, in order."""
        self._account(account)
        scores = self.scores(texts, batch_size)
        return [self.decide(text, account, *scores.row(i)) for i, text in enumerate(texts)]
