import numpy as np
import pytest

from verbatim.training.paired_bootstrap import accuracy, delta_upper_bound, micro_f1


def correct(flags: list[int]) -> np.ndarray:
    return np.array([(f, 1) for f in flags])


def test_identical_models_have_a_zero_bound() -> None:
    outcomes = correct([1, 0, 1, 1] * 50)
    assert delta_upper_bound(outcomes, outcomes, accuracy) == 0.0


def test_a_few_flipped_comments_out_of_hundreds_stay_within_noise() -> None:
    # 350 comments; the challenger loses 10 and wins 6: accuracy -0.0114, the bench's case.
    old = [1] * 300 + [0] * 50
    new = old.copy()
    for i in range(10):
        new[i] = 0
    for i in range(300, 306):
        new[i] = 1
    bound = delta_upper_bound(correct(new), correct(old), accuracy)
    assert accuracy(correct(new).sum(0)) - accuracy(correct(old).sum(0)) == pytest.approx(-4 / 350)
    assert bound > -0.01  # cannot tell it from luck


def test_a_broad_drop_is_beyond_noise() -> None:
    old = [1] * 300 + [0] * 50
    new = [0] * 40 + [1] * 260 + [0] * 50  # 40 fewer right, none gained: -0.114
    assert delta_upper_bound(correct(new), correct(old), accuracy) < -0.08


def test_micro_f1_from_summed_counts_and_deterministic() -> None:
    assert micro_f1(np.array([8, 2, 2])) == pytest.approx(0.8)
    rng = np.random.default_rng(0)
    new, old = rng.integers(0, 3, (200, 3)), rng.integers(0, 3, (200, 3))
    assert delta_upper_bound(new, old, micro_f1) == delta_upper_bound(new, old, micro_f1)
    with pytest.raises(ValueError, match="one shape"):
        delta_upper_bound(new, old[:10], micro_f1)
