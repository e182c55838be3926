"""Per-tag thresholds tuned on dev data, for the model alone and for model + keyword rule."""

from __future__ import annotations

import numpy as np

GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)
DEFAULT_THRESHOLD = 0.5
RULE_GAIN = 0.01  # dev F1 a rule must add before it is used, so noise does not switch it on


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
    The rule threshold is searched jointly with the model threshold, at or below it,
    and equals it unless the rule adds RULE_GAIN of dev F1, so rules never lower dev F1.
    """
    labels = probs.shape[1]
    thresholds = np.full(labels, DEFAULT_THRESHOLD)
    rule_thresholds = np.full(labels, DEFAULT_THRESHOLD)
    for j in range(labels):
        p, y, r = probs[:, j], truth[:, j].astype(bool), rule_hits[:, j].astype(bool)
        if y.sum() < min_positives:
            continue
        predicted = p[None, :] >= GRID[:, None]  # [grid, n]
        best = int(np.argmax(_smooth(_f1_of(predicted, y))))
        thresholds[j] = rule_thresholds[j] = GRID[best]
        if not r.any():
            continue
        model_only = float(_f1_of(predicted[best][None, :], y)[0])
        # Joint search: a keyword may justify a higher model threshold with a lower bar for rule hits.
        best_pair, best_score = None, model_only + RULE_GAIN
        for i in range(len(GRID)):
            combined = predicted[i][None, :] | (r[None, :] & predicted[: i + 1])
            scores = _f1_of(combined, y)
            k = int(np.argmax(scores))
            if scores[k] > best_score:
                best_pair, best_score = (i, k), float(scores[k])
        if best_pair is not None:
            thresholds[j], rule_thresholds[j] = GRID[best_pair[0]], GRID[best_pair[1]]
    return thresholds, rule_thresholds


def _f1_of(predicted: np.ndarray, y: np.ndarray) -> np.ndarray:
    tp = (predicted & y).sum(1)
    fp = (predicted & ~y).sum(1)
    fn = (~predicted & y).sum(1)
    return f1(tp, fp, fn)
