"""The learning benchmark's strong baseline: logistic regression on frozen MiniLM embeddings.

The base encoder (not a fine-tuned champion) embeds each text once, mean-pooled as the
model does, and the vectors are kept in memory for every step. On a single-label sample,
multinomial logistic regression (C=10) picks one tag; otherwise one logistic regression per
tag (one-vs-rest, balanced class weights) predicts a tag when its probability reaches 0.5. Needs scikit-learn (the `bench` extra).
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import torch

from verbatim.models.encoder import PreTrainedModel, PreTrainedTokenizerBase, load_base_encoder
from verbatim.models.network import mean_pool
from verbatim.training.corpus import Record
from verbatim.training.evaluate import theme_report

EncoderFactory = Callable[[], tuple[PreTrainedModel, PreTrainedTokenizerBase]]
MAX_LENGTH = 128
THRESHOLD = 0.5
SINGLE_LABEL_C = 10.0  # the probe the few-shot literature reports on BANKING77 (issue 13)
BENCH_EXTRA_MISSING = "the linear-probe baseline needs scikit-learn, in the bench extra: pip install 'verbatim[bench]'"


def require_scikit_learn() -> None:
    """RuntimeError saying which extra to install when scikit-learn is missing."""
    if importlib.util.find_spec("sklearn") is None:
        raise RuntimeError(BENCH_EXTRA_MISSING)


def embed_texts(texts: Sequence[str], encoder_factory: EncoderFactory = load_base_encoder,
                batch_size: int = 64) -> dict[str, np.ndarray]:
    """Text -> mean-pooled embedding of the frozen encoder, for each distinct text."""
    distinct = sorted(set(texts), key=len)  # similar lengths per batch: less padding
    encoder, tokenizer = encoder_factory()
    encoder.eval()
    vectors: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        for start in range(0, len(distinct), batch_size):
            chunk = distinct[start:start + batch_size]
            batch = tokenizer(chunk, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            pooled = mean_pool(hidden, batch["attention_mask"]).numpy()
            vectors.update(zip(chunk, pooled, strict=True))
    return vectors


def probe_predictions(train: Sequence[Record], test: Sequence[Record], vectors: dict[str, np.ndarray],
                      tags: Sequence[str]) -> list[set[str]]:
    """The tags the linear probe trained on `train` gives each `test` record.

    One tag per training comment (an intent set like BANKING77): multinomial logistic
    regression, C=10, its most probable tag. Otherwise one-vs-rest with balanced class
    weights, each tag kept at probability >= 0.5.
    """
    require_scikit_learn()
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    x_train = np.stack([vectors[r.text] for r in train])
    x_test = np.stack([vectors[r.text] for r in test])
    if all(len(r.tags) == 1 for r in train):
        single = LogisticRegression(C=SINGLE_LABEL_C, max_iter=2000)
        single.fit(x_train, [next(iter(r.tags)) for r in train])
        return [{str(tag)} for tag in single.predict(x_test)]
    y_train = np.array([[tag in r.tags for tag in tags] for r in train], dtype=np.int64)
    model = OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=2000))
    with warnings.catch_warnings():
        # A tag absent from a small sample is predicted constant; sklearn warns and that is expected.
        warnings.simplefilter("ignore", UserWarning)
        model.fit(x_train, y_train)
    probabilities = model.predict_proba(x_test)
    return [{tag for tag, p in zip(tags, row, strict=True) if p >= THRESHOLD} for row in probabilities]


def logreg_micro_f1(train: Sequence[Record], test: Sequence[Record], vectors: dict[str, np.ndarray],
                    tags: Sequence[str]) -> tuple[float, float]:
    """(micro-F1 on `test`, seconds to fit and predict) of the linear probe trained on `train`."""
    started = time.perf_counter()
    predicted = probe_predictions(train, test, vectors, tags)
    seconds = time.perf_counter() - started
    return theme_report([set(r.tags) for r in test], predicted, tags)["micro_f1"], seconds
