"""Honest confidence: temperature scaling on dev, expected calibration error, and the
needs_review cut-off.

Fine-tuned networks are over-confident. One temperature per account for its tag scores, one
for the comment's sentiment and one for the tags' sentiments are fitted on dev by minimising
the log-loss of the scaled logits (Guo et al., 2017), and folded into the heads' weights, so
every backend serves calibrated probabilities with no extra step.

A comment needs review when the estimated probability that all of it is right, its sentiment's
top probability times, for each tag, the probability that the tag's decision is right, falls
below its account's cut-off, chosen on dev so that `REVIEW_SHARE` of dev comments are flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from verbatim.models.artifact import Artifact
from verbatim.models.decision import TagScore, confidence_all_right
from verbatim.models.labels import LabelSpace
from verbatim.models.predictor import Predictor, Scores
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.corpus import Record

BINS = 15
REVIEW_SHARE = 0.15  # of an account's dev comments flagged for review
_EPS = 1e-6


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, binary: bool) -> float:
    """The T > 0 minimising the mean log-loss of logits / T: binary cross-entropy against 0/1
    `targets` when `binary`, else cross-entropy against class indices. 1.0 with no rows."""
    if len(targets) == 0:
        return 1.0
    logits, log_t = logits.double(), torch.zeros(1, dtype=torch.float64, requires_grad=True)
    targets = targets.double() if binary else targets.long()
    loss_of = F.binary_cross_entropy_with_logits if binary else F.cross_entropy
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_of(logits / log_t.exp(), targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def binary_ece(probabilities: np.ndarray, outcomes: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error of probabilities of a yes/no event: over equal-width bins,
    |mean outcome - mean probability| weighted by the bin's share of rows."""
    p, y = np.asarray(probabilities, dtype=float).ravel(), np.asarray(outcomes, dtype=float).ravel()
    if len(p) == 0:
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(y[which == b].mean() - p[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def top_label_ece(probabilities: np.ndarray, gold: np.ndarray, bins: int = BINS) -> float:
    """ECE of a classifier's top probability against whether its top class is the gold one."""
    probabilities = np.asarray(probabilities)
    if len(probabilities) == 0:
        return 0.0
    return binary_ece(probabilities.max(1), probabilities.argmax(1) == np.asarray(gold), bins)


def _logit(p: np.ndarray) -> torch.Tensor:
    p = np.clip(p, _EPS, 1 - _EPS)
    return torch.from_numpy(np.log(p) - np.log1p(-p))


def _log(p: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.log(np.clip(p, _EPS, 1.0)))


def calibrate(artifact: Artifact, dev: Sequence[Record], scores: Scores | None = None) -> dict:
    """Fit the temperatures on `dev` and fold them into `artifact`'s heads (apply_temperatures);
    returns them with the dev ECE before and after, as `ArtifactMeta.calibration` keeps them.
    `scores`: the artifact's dev scores, if already computed."""
    meta = artifact.meta
    dev = [r for r in dev if r.account in meta.taxonomies]
    if not dev:
        return {}
    scores = scores if scores is not None else Predictor(artifact).scores([r.text for r in dev])
    report: dict = {"themes": {}}
    for account in meta.labels.accounts:
        rows = [i for i, r in enumerate(dev) if r.account == account]
        if rows:
            truth = np.array([[tag in dev[i].tags for tag in meta.labels.tags(account)] for i in rows], dtype=float)
            p = scores.themes[np.ix_(rows, meta.labels.indices(account))]
            t = fit_temperature(_logit(p).reshape(-1), torch.from_numpy(truth.reshape(-1)), binary=True)
            report["themes"][account] = {"temperature": round(t, 4), "ece_before": round(binary_ece(p, truth), 4),
                                         "ece_after": round(binary_ece(torch.sigmoid(_logit(p) / t).numpy(), truth),
                                                            4)}
    gold = [(i, SENTIMENT_LABELS.index(r.sentiment)) for i, r in enumerate(dev) if r.sentiment]
    report["sentiment"] = _softmax_report(scores.sentiment[[i for i, _ in gold]], np.array([c for _, c in gold]))
    cells = tag_sentiment_cells(meta.labels, dev)
    report["tag_sentiment"] = _softmax_report(
        np.array([scores.tag_sentiment[i, c] for i, c, _ in cells]).reshape(-1, len(SENTIMENT_LABELS)),
        np.array([SENTIMENT_LABELS.index(g) for *_, g in cells]))
    apply_temperatures(artifact, report)
    return report


def tag_sentiment_cells(labels: LabelSpace, records: Sequence[Record],
                        account: str | None = None) -> list[tuple[int, int, str]]:
    """(row, column, gold label) for each gold tag with a known sentiment that has a column in
    `labels`, under `account`, or each record's own account when None."""
    cells = []
    for i, r in enumerate(records):
        columns = dict(zip(labels.tags(account or r.account), labels.indices(account or r.account)))
        cells += [(i, columns[tag], label) for tag in sorted(r.tags)
                  if tag in columns and (label := r.tag_sentiment(tag)) is not None]
    return cells


def apply_temperatures(artifact: Artifact, calibration: dict) -> None:
    """Divide each head's logits by its temperature in `calibration` (a calibrate() report)."""
    meta, net = artifact.meta, artifact.net
    t_s = calibration.get("sentiment", {}).get("temperature", 1.0)
    t_t = calibration.get("tag_sentiment", {}).get("temperature", 1.0)
    k = len(SENTIMENT_LABELS)
    with torch.no_grad():
        for account, figures in calibration.get("themes", {}).items():
            if account in meta.labels.accounts:
                columns = meta.labels.indices(account)
                net.theme_head.weight[columns] /= figures["temperature"]
                net.theme_head.bias[columns] /= figures["temperature"]
                if account in meta.original_accounts and artifact.original is not None:
                    rows = artifact.original.rows_of(columns)
                    artifact.original.head.weight[rows] /= figures["temperature"]
                    artifact.original.head.bias[rows] /= figures["temperature"]
        # Tag logits are s + o: for them to be scaled by 1/t_t while s itself is scaled by 1/t_s,
        # o becomes s (1/t_t - 1/t_s) + o / t_t, still linear in the pooled embedding.
        labels, shift = net.tag_sentiment_head.out_features // k, 1 / t_t - 1 / t_s
        net.tag_sentiment_head.weight.copy_(net.sentiment_head.weight.repeat(labels, 1) * shift
                                            + net.tag_sentiment_head.weight / t_t)
        net.tag_sentiment_head.bias.copy_(net.sentiment_head.bias.repeat(labels) * shift
                                          + net.tag_sentiment_head.bias / t_t)
        net.sentiment_head.weight /= t_s
        net.sentiment_head.bias /= t_s


def _softmax_report(p: np.ndarray, gold: np.ndarray) -> dict:
    t = fit_temperature(_log(p), torch.from_numpy(gold), binary=False)
    after = torch.softmax(_log(p) / t, dim=-1).numpy() if len(p) else p
    return {"temperature": round(t, 4), "ece_before": round(top_label_ece(p, gold), 4),
            "ece_after": round(top_label_ece(after, gold), 4)}


def review_cutoff(confidences: Sequence[float], share: float = REVIEW_SHARE) -> float:
    """The cut-off under which `share` of these confidences fall (none flagged when empty)."""
    if not len(confidences):
        return 0.0
    ranked = sorted(confidences)
    return float(ranked[min(len(ranked) - 1, math.floor(share * len(ranked)))])


def review_cutoffs(artifact: Artifact, dev: Sequence[Record], scores: Scores) -> dict[str, float]:
    """Each account's needs_review cut-off: the REVIEW_SHARE quantile of its dev comments'
    confidence_all_right, from `scores` of `dev` by the calibrated, tuned `artifact`."""
    meta, cutoffs = artifact.meta, {}
    for account in meta.labels.accounts:
        columns = meta.labels.indices(account)
        thresholds = [meta.thresholds[c] for c in columns]
        confidences = [confidence_all_right([TagScore("", float(scores.themes[i, c]), t, t)
                                             for c, t in zip(columns, thresholds)], float(scores.sentiment[i].max()))
                       for i, r in enumerate(dev) if r.account == account]
        if confidences:
            cutoffs[account] = review_cutoff(confidences)
    return cutoffs
