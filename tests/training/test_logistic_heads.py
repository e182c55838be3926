"""The quick path's logistic heads reach scikit-learn's logistic-regression optimum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from verbatim.training.dataset import IGNORE
from verbatim.training.logistic_heads import (fit_single_label_columns, fit_softmax, fit_tag_sentiment,
                                              fit_theme_columns)

sklearn = pytest.importorskip("sklearn.linear_model")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 8))
    y = (x @ rng.normal(size=(8, 3)) + rng.normal(scale=0.5, size=(60, 3)) > 0.8).astype(np.float64)
    return x, y


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_one_vs_rest_columns_match_balanced_logistic_regression(c: float) -> None:
    x, y = _data()
    weight, bias = fit_theme_columns(torch.from_numpy(x).float(), torch.from_numpy(y).float(),
                                     torch.ones(y.shape, dtype=torch.float32), c)
    for column in range(y.shape[1]):
        reference = sklearn.LogisticRegression(C=c, class_weight="balanced", tol=1e-10, max_iter=10_000)
        reference.fit(x, y[:, column])
        np.testing.assert_allclose(weight[column].numpy(), reference.coef_[0], atol=2e-3)
        assert bias[column].item() == pytest.approx(reference.intercept_[0], abs=2e-3)


def test_masked_rows_are_left_out_and_an_unlabelled_column_stays_zero() -> None:
    x, y = _data(1)
    mask = np.ones_like(y)
    mask[:20, 0] = 0  # column 0 knows only rows 20..59
    mask[:, 2] = 0  # column 2 knows nothing
    weight, bias = fit_theme_columns(torch.from_numpy(x).float(), torch.from_numpy(y).float(),
                                     torch.from_numpy(mask).float(), 1.0)
    reference = sklearn.LogisticRegression(C=1.0, class_weight="balanced", tol=1e-10, max_iter=10_000)
    reference.fit(x[20:], y[20:, 0])
    np.testing.assert_allclose(weight[0].numpy(), reference.coef_[0], atol=2e-3)
    assert torch.count_nonzero(weight[2]) == 0 and bias[2].item() == 0


def test_softmax_matches_multinomial_logistic_regression_and_skips_unlabelled_rows() -> None:
    x, y = _data(2)
    classes = y.argmax(1)
    labelled = np.array(classes)
    labelled[::4] = IGNORE
    fitted = fit_softmax(torch.from_numpy(x).float(), torch.from_numpy(labelled), 3, 10.0)
    assert fitted is not None
    keep = labelled != IGNORE
    reference = sklearn.LogisticRegression(C=10.0, tol=1e-10, max_iter=10_000).fit(x[keep], classes[keep])
    ours = (torch.from_numpy(x).float() @ fitted[0].T + fitted[1]).argmax(1).numpy()
    np.testing.assert_array_equal(ours, reference.predict(x))
    # Multinomial weights are identified up to a shift shared by every class.
    np.testing.assert_allclose(fitted[0].numpy() - fitted[0].numpy().mean(0),
                               reference.coef_ - reference.coef_.mean(0), atol=2e-3)
    assert fit_softmax(torch.zeros(4, 8), torch.full((4,), IGNORE), 3, 1.0) is None


def test_single_label_columns_rank_as_the_softmax_and_sum_to_one_on_average() -> None:
    x, y = _data(3)
    classes = torch.from_numpy(y.argmax(1))
    xs = torch.from_numpy(x).float()
    fitted = fit_single_label_columns(xs, classes, 3, 10.0)
    softmax = fit_softmax(xs, classes, 3, 10.0)
    assert fitted is not None and softmax is not None
    served = torch.sigmoid(xs @ fitted[0].T + fitted[1])
    assert torch.equal(served.argmax(1), (xs @ softmax[0].T + softmax[1]).argmax(1))
    assert served.sum(1).mean().item() == pytest.approx(1.0, abs=1e-3)


def test_tag_sentiment_offsets_learn_where_a_tag_disagrees_with_the_comment() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6))
    comment = np.stack([-x[:, 0], np.zeros(200), x[:, 0]], 1) * 3  # the comment's logits follow x[:, 0]
    classes = np.full((200, 3), IGNORE)
    # label 0: its sentiment is the comment's; label 1: follows x[:, 1] whatever the comment says
    classes[:, 0] = np.where(x[:, 0] > 0, 2, 0)
    classes[:, 1] = np.where(x[:, 1] > 0, 2, 0)
    fitted = fit_tag_sentiment(torch.from_numpy(x).float(), torch.from_numpy(comment).float(),
                               torch.from_numpy(classes), c=1.0)
    assert fitted is not None
    weight, bias = fitted
    logits = (comment[:, None, :] + (x @ weight.numpy().T + bias.numpy()).reshape(200, 3, 3))
    predicted = logits.argmax(2)
    assert (predicted[:, 1] == classes[:, 1]).mean() > 0.9  # learned to follow x[:, 1] instead
    assert (predicted[:, 0] == classes[:, 0]).mean() > 0.95
    assert torch.count_nonzero(weight[6:]) == 0 and torch.count_nonzero(bias[6:]) == 0  # label 2: no data
    assert fit_tag_sentiment(torch.from_numpy(x).float(), torch.from_numpy(comment).float(),
                             torch.full((200, 3), IGNORE), c=1.0) is None
