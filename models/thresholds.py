"""Per-tag thresholds tuned on dev data, for the model alone and for model + keyword rule."""

from __future__ import annotations

import numpy as np

GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)
DEFAULT_THRESHOLD = 0.5


def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _smooth(values: np.ndarray) -> np.ndarray:
    # Averaging each grid point with its neighbours prefers plateaus over lucky spikes,
    # which matters on small dev sets.
    padded = np.pad(values, 1, mode="edge")
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3


def tune_thresholds(probs: np.ndarray, truth: np.ndarray, rule_hits: np.ndarray,
                    min_positives: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds and rule thresholds per column that maximise (smoothed) dev F1.

    probs, truth and rule_hits are [n, labels]. A column with fewer than
    `min_positives` dev positives keeps the default threshold and ignores rules.
    The rule threshold is searched at or below the model threshold and equals it
    when the rule does not improve F1, so rules never lower dev F1.
    """
    labels = probs.shape[1]
    thresholds = np.full(labels, DEFAULT_THRESHOLD)
    rule_thresholds = np.full(labels, DEFAULT_THRESHOLD)
    for j in range(labels):
        p, y, r = probs[:, j], truth[:, j].astype(bool), rule_hits[:, j].astype(bool)
        if y.sum() < min_positives:
            continue
        predicted = p[None, :] >= GRID[:, None]  # [grid, n]
        scores = _smooth(_f1_of(predicted, y))
        best = int(np.argmax(scores))
        thresholds[j] = rule_thresholds[j] = GRID[best]
        best_score = float(_f1_of(predicted[best][None, :], y)[0])
        for k in range(best - 1, -1, -1):
            combined = predicted[best] | (r & (p >= GRID[k]))
            score = float(_f1_of(combined[None, :], y)[0])
            if score > best_score + 1e-9:
                best_score, rule_thresholds[j] = score, GRID[k]
    return thresholds, rule_thresholds


def _f1_of(predicted: np.ndarray, y: np.ndarray) -> np.ndarray:
    tp = (predicted & y).sum(1)
    fp = (predicted & ~y).sum(1)
    fn = (~predicted & y).sum(1)
    return f1(tp, fp, fn)
