import numpy as np

from verbatim.models.thresholds import DEFAULT_THRESHOLD, tune_thresholds, f1


def _column_f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = (predicted & truth).sum()
    return float(f1(np.array(tp), np.array((predicted & ~truth).sum()), np.array((~predicted & truth).sum())))


def test_threshold_separates_shifted_scores() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(400) < 0.3
    probs = np.where(truth, rng.uniform(0.25, 0.45, 400), rng.uniform(0.0, 0.2, 400))
    thresholds, _ = tune_thresholds(probs[:, None], truth[:, None], np.zeros((400, 1), bool))
    assert 0.2 <= thresholds[0] <= 0.25
    assert _column_f1(probs >= thresholds[0], truth) == 1.0


def test_rules_lower_the_bar_only_when_they_help() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(300) < 0.4
    # Half the positives score as low as many negatives, but each of them carries a keyword.
    hidden = truth & (rng.random(300) < 0.5)
    probs = np.where(truth & ~hidden, 0.9, np.where(hidden | (rng.random(300) < 0.5), 0.3, 0.1))
    hits = hidden.copy()
    thresholds, rule_thresholds = tune_thresholds(probs[:, None], truth[:, None], hits[:, None])
    assert rule_thresholds[0] < thresholds[0]
    combined = (probs >= thresholds[0]) | (hits & (probs >= rule_thresholds[0]))
    assert _column_f1(combined, truth) == 1.0


def test_noisy_rule_is_ignored() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random(300) < 0.3
    probs = np.where(truth, 0.8, 0.3)
    hits = ~truth  # the rule only fires on negatives
    thresholds, rule_thresholds = tune_thresholds(probs[:, None], truth[:, None], hits[:, None])
    assert rule_thresholds[0] == thresholds[0]


def test_rare_label_keeps_the_default() -> None:
    truth = np.zeros((50, 1), bool)
    truth[0] = True
    thresholds, rule_thresholds = tune_thresholds(np.full((50, 1), 0.7), truth, np.zeros((50, 1), bool))
    assert thresholds[0] == rule_thresholds[0] == DEFAULT_THRESHOLD
