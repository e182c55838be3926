"""Theme columns served from the original encoder: only for their accounts' rows, saved and loaded
whole, scaled by calibration like the champion's columns."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from verbatim.models.artifact import Artifact, ArtifactError
from verbatim.models.encoder import load_base_encoder
from verbatim.models.onnx_backend import RECIPE, OnnxBackend, OnnxOriginalColumns
from verbatim.models.original_encoder import ORIGINAL_HEAD_FILE
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.training.calibration import apply_temperatures

from tests.original_columns import with_original_account

TEXTS = ["the parrot sang at dawn", "my card payment was declined twice", "an eagle circled the field"]


@pytest.fixture(scope="module")
def artifacts(tiny_registry: Registry) -> tuple[Artifact, Artifact]:
    """The tiny champion grown by a `bank` account, without and with its columns on the original encoder."""
    path = tiny_registry.champion_path()
    assert path is not None
    return with_original_account(Artifact.load(Path(path)))


def _original_probabilities(texts: list[str], head: torch.nn.Linear) -> np.ndarray:
    """Computed apart from OriginalColumns: the package's MiniLM, one text at a time, mean of its token states."""
    encoder, tokenizer = load_base_encoder()
    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, truncation=True, max_length=64, return_tensors="pt")
            pooled = encoder(**ids).last_hidden_state[0].mean(0)
            rows.append(torch.sigmoid(head.weight @ pooled + head.bias).numpy())
    return np.stack(rows)


def test_only_the_rows_of_an_original_account_get_the_second_pass(artifacts: tuple[Artifact, Artifact]) -> None:
    plain, served = artifacts
    predictor, without = Predictor(served), Predictor(plain)
    calls: list[int] = []
    real = served.original.probabilities
    served.original.probabilities = lambda ids, mask: calls.append(len(ids)) or real(ids, mask)  # type: ignore
    try:
        ids = predictor.encode(TEXTS)
        scores = predictor.infer(ids, [DEFAULT_ACCOUNT, "bank", DEFAULT_ACCOUNT])
        assert calls == [1]
        default_only = predictor.infer(ids, [DEFAULT_ACCOUNT] * 3)
        assert calls == [1]  # no row of bank: no second pass at all
    finally:
        del served.original.probabilities
    reference = without.infer(ids)
    columns = plain.meta.labels.indices("bank")
    others = [c for c in range(len(plain.meta.labels)) if c not in columns]
    np.testing.assert_allclose(scores.themes[:, others], reference.themes[:, others], atol=1e-6)
    np.testing.assert_allclose(scores.sentiment, reference.sentiment, atol=1e-6)
    np.testing.assert_allclose(scores.themes[[0, 2]][:, columns], reference.themes[[0, 2]][:, columns], atol=1e-6)
    np.testing.assert_allclose(scores.themes[1, columns], _original_probabilities([TEXTS[1]], served.original.head)[0],
                               atol=1e-5)
    np.testing.assert_allclose(default_only.themes, reference.themes, atol=1e-6)


def test_without_accounts_every_row_reads_the_original_columns(artifacts: tuple[Artifact, Artifact]) -> None:
    _, served = artifacts
    scores = Predictor(served).scores(TEXTS, batch_size=2)  # padded batches of mixed lengths
    np.testing.assert_allclose(scores.themes[:, served.meta.labels.indices("bank")],
                               _original_probabilities(TEXTS, served.original.head), atol=1e-5)


def test_an_artifact_with_original_columns_saves_and_loads_whole(artifacts: tuple[Artifact, Artifact],
                                                                  tmp_path: Path) -> None:
    _, served = artifacts
    served.save(tmp_path / "v")
    loaded = Artifact.load(tmp_path / "v")
    assert loaded.meta.original_accounts == ["bank"] and loaded.original is not None
    assert loaded.original.columns == served.meta.labels.indices("bank")
    np.testing.assert_allclose(Predictor(loaded).scores(TEXTS).themes, Predictor(served).scores(TEXTS).themes,
                               atol=1e-6)
    (tmp_path / "v" / ORIGINAL_HEAD_FILE).unlink()
    with pytest.raises(ArtifactError, match="cannot load artifact"):
        Artifact.load(tmp_path / "v")


def test_a_temperature_scales_the_original_columns_of_its_account(artifacts: tuple[Artifact, Artifact]) -> None:
    _, served = artifacts
    scaled = copy.deepcopy(served)
    apply_temperatures(scaled, {"themes": {"bank": {"temperature": 2.0}}})
    before = Predictor(served).scores(TEXTS).themes[:, served.meta.labels.indices("bank")]
    after = Predictor(scaled).scores(TEXTS).themes[:, served.meta.labels.indices("bank")]
    logit = np.log(before) - np.log1p(-before)
    np.testing.assert_allclose(after, 1 / (1 + np.exp(-logit / 2)), atol=1e-5)


def test_the_onnx_backend_runs_the_original_columns_fp32_beside_the_int8_network(
        artifacts: tuple[Artifact, Artifact], tmp_path: Path) -> None:
    served = copy.deepcopy(artifacts[1])
    with torch.no_grad():  # logits of a few units, as a fitted head gives, not the random head's dozens
        served.original.head.weight /= 10
    served.save(tmp_path / "v")
    loaded = Artifact.load(tmp_path / "v")
    backend = OnnxBackend.for_artifact(tmp_path / "v", loaded)
    assert isinstance(backend.original, OnnxOriginalColumns)
    assert sorted(p.name for p in (tmp_path / "v" / "onnx").glob("*.onnx")) == \
        [f"{loaded.meta.version}.{RECIPE}.int8.onnx", f"{loaded.meta.version}.{RECIPE}.original.fp32.onnx"]
    onnx_scores = Predictor(loaded, backend).scores(TEXTS, batch_size=2)
    columns = served.meta.labels.indices("bank")
    # fp32, fused, against the reference computed apart: the same numbers, not int8's (0.03 apart here)
    np.testing.assert_allclose(onnx_scores.themes[:, columns], _original_probabilities(TEXTS, served.original.head),
                               atol=1e-4)
