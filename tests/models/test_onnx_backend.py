from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from verbatim.models import onnx_backend  # noqa: E402
from verbatim.models.artifact import Artifact, ArtifactMeta  # noqa: E402
from verbatim.models.encoder import tiny_random_encoder  # noqa: E402
from verbatim.models.labels import LabelSpace  # noqa: E402
from verbatim.models.loading import BACKENDS, load_predictor  # noqa: E402
from verbatim.models.network import ThemeSentimentNet  # noqa: E402
from verbatim.models.onnx_backend import OnnxBackend, OnnxExportError, export_onnx, onnx_model_path  # noqa: E402
from verbatim.models.predictor import Predictor  # noqa: E402
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY  # noqa: E402

# On this tiny random model int8 moved probabilities by at most 7.5e-5 over the 350 seed dev
# comments; 1e-3 leaves room for other CPUs' kernels. Its weights are small and its activations
# free of outliers, so this checks the export, not the real model's error: bench.parity
# measures that (up to ~0.1 per probability on the trained MiniLM).
INT8_TOLERANCE = 1e-3
FP32_TOLERANCE = 1e-4

TEXTS = ["Slack sync is broken", "love it", "pricey", "ok",
         "a much longer comment about the slack integration crashing every day while support never answers"]
LONG_TEXT = " ".join(["the salesforce export times out and the dashboard shows stale numbers"] * 6)


def _tiny_artifact(version: str = "v-onnx-test") -> Artifact:
    encoder, tokenizer = tiny_random_encoder(seed=5)
    labels = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: DEFAULT_TAXONOMY.names})
    meta = ArtifactMeta(version=version, created_at="2026-01-01T00:00:00+00:00", labels=labels,
                        thresholds=[0.5] * len(labels), rule_thresholds=[0.3] * len(labels),
                        taxonomies={DEFAULT_ACCOUNT: DEFAULT_TAXONOMY})
    net = ThemeSentimentNet(encoder, num_labels=len(labels)).eval()
    with torch.no_grad():  # tag sentiment offsets as a trained model has them, not the zeros they start from
        net.tag_sentiment_head.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(7))
    return Artifact(meta=meta, net=net, tokenizer=tokenizer)


@pytest.fixture(scope="module")
def artifact() -> Artifact:
    return _tiny_artifact()


@pytest.fixture(scope="module")
def fp32_model(artifact: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fp32") / "model.onnx"
    export_onnx(artifact, path, quantize=False)
    return path


@pytest.fixture(scope="module")
def artifact_dir(artifact: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("artifact")
    artifact.save(directory)
    return directory


@pytest.fixture(scope="module")
def int8_model(artifact_dir: Path, artifact: Artifact) -> Path:
    return onnx_model_path(artifact_dir, artifact)


@pytest.fixture
def export_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = onnx_backend.export_onnx

    def counting(artifact: Artifact, path: Path, quantize: bool = True, part: str = "") -> None:
        calls.append(path)
        real(artifact, path, quantize, part)

    monkeypatch.setattr(onnx_backend, "export_onnx", counting)
    return calls


def test_export_takes_token_ids_and_gives_probabilities_with_dynamic_batch_and_length(fp32_model: Path) -> None:
    graph = onnx.load(str(fp32_model)).graph
    inputs = {i.name: i.type.tensor_type for i in graph.input}
    assert set(inputs) == {"input_ids", "attention_mask"}
    for tensor in inputs.values():
        assert tensor.elem_type == onnx.TensorProto.INT64
        assert all(d.dim_param for d in tensor.shape.dim), "batch and sequence axes must be dynamic"
    assert [o.name for o in graph.output] == ["themes", "sentiment", "tag_sentiment"]
    scores = Predictor(_tiny_artifact(), OnnxBackend(fp32_model)).scores(TEXTS)
    themes, sentiment, tags = scores.themes, scores.sentiment, scores.tag_sentiment
    assert themes.shape == (len(TEXTS), 15) and sentiment.shape == (len(TEXTS), 3)
    assert tags.shape == (len(TEXTS), 15, 3)
    assert ((themes > 0) & (themes < 1)).all()
    np.testing.assert_allclose(sentiment.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(tags.sum(axis=2), 1.0, atol=1e-5)
    assert not np.allclose(tags, sentiment[:, None, :], atol=1e-3), "each tag has its own sentiment"


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_fp32_export_matches_torch(artifact: Artifact, fp32_model: Path, batch_size: int) -> None:
    expected = Predictor(artifact).scores(TEXTS + [LONG_TEXT], batch_size)
    got = Predictor(artifact, OnnxBackend(fp32_model)).scores(TEXTS + [LONG_TEXT], batch_size)
    np.testing.assert_allclose(got.themes, expected.themes, atol=FP32_TOLERANCE)
    np.testing.assert_allclose(got.sentiment, expected.sentiment, atol=FP32_TOLERANCE)
    np.testing.assert_allclose(got.tag_sentiment, expected.tag_sentiment, atol=FP32_TOLERANCE)


def test_int8_model_is_quantised_and_agrees_with_torch_within_tolerance(artifact: Artifact, fp32_model: Path,
                                                                       int8_model: Path) -> None:
    ops = {node.op_type for node in onnx.load(str(int8_model)).graph.node}
    assert ops & {"MatMulInteger", "QAttention", "DynamicQuantizeMatMul"}, ops
    texts = TEXTS + [LONG_TEXT]
    expected = Predictor(artifact).scores(texts)
    got = Predictor(artifact, OnnxBackend(int8_model)).scores(texts)
    assert not np.allclose(got.themes, expected.themes, atol=1e-6), "int8 should not be bit-identical to fp32"
    np.testing.assert_allclose(got.themes, expected.themes, atol=INT8_TOLERANCE)
    np.testing.assert_allclose(got.sentiment, expected.sentiment, atol=INT8_TOLERANCE)


def test_recipe_keeps_the_heads_and_the_early_feed_forward_blocks_fp32(fp32_model: Path, int8_model: Path) -> None:
    chosen = onnx_backend.quantized_nodes(onnx.load(str(fp32_model)), num_layers=2)
    assert any(n.startswith("Attention") for n in chosen), chosen
    assert [n for n in chosen if "/intermediate/" in n] == ["/net/encoder/encoder/layer.1/intermediate/dense/MatMul"]
    assert not any("layer.0/output/dense" in n or "_head" in n for n in chosen)
    int8 = {node.name: node.op_type for node in onnx.load(str(int8_model)).graph.node}
    assert int8["/net/encoder/encoder/layer.0/intermediate/dense/MatMul"] == "MatMul"


def test_padding_beside_a_much_longer_comment_does_not_change_a_result(artifact: Artifact, fp32_model: Path,
                                                                       int8_model: Path) -> None:
    # int8 quantises activations with one scale per batch, so its rows move by quantisation noise
    # with the batch's contents; fp32 must be unaffected by the padding itself.
    for model, tolerance in ((fp32_model, 1e-5), (int8_model, INT8_TOLERANCE)):
        predictor = Predictor(artifact, OnnxBackend(model))
        alone = predictor.scores(["Slack sync is broken"])
        padded = predictor.scores(["Slack sync is broken", LONG_TEXT], batch_size=2)
        assert len(predictor.encode([LONG_TEXT])[0]) > 5 * len(predictor.encode(["Slack sync is broken"])[0])
        np.testing.assert_allclose(padded.themes[0], alone.themes[0], atol=tolerance)
        np.testing.assert_allclose(padded.sentiment[0], alone.sentiment[0], atol=tolerance)


def test_cache_lives_beside_the_artifact_keyed_by_version_and_is_reused(artifact_dir: Path, artifact: Artifact,
                                                                        int8_model: Path,
                                                                        export_calls: list[Path]) -> None:
    assert int8_model.parent == artifact_dir / "onnx"
    assert int8_model.name.startswith(f"{artifact.meta.version}.") and int8_model.name.endswith(".int8.onnx")
    before = int8_model.stat().st_mtime_ns
    assert onnx_model_path(artifact_dir) == int8_model  # reads the version from artifact.json
    backend = OnnxBackend.for_artifact(artifact_dir, artifact)
    assert backend.model_path == int8_model
    assert export_calls == []
    assert int8_model.stat().st_mtime_ns == before
    assert sorted(p.name for p in int8_model.parent.iterdir()) == [int8_model.name], "no temp files left"


def test_a_corrupt_cached_model_is_rebuilt_once(artifact: Artifact, int8_model: Path, tmp_path: Path,
                                                export_calls: list[Path]) -> None:
    artifact.save(tmp_path)
    cached = tmp_path / "onnx" / int8_model.name
    cached.parent.mkdir()
    cached.write_bytes(int8_model.read_bytes()[:1000])  # as if a disk filled up mid-write
    assert onnx_model_path(tmp_path, artifact) == cached and export_calls == []
    backend = OnnxBackend.for_artifact(tmp_path, artifact)
    assert len(export_calls) == 1
    assert cached.stat().st_size == int8_model.stat().st_size
    themes = Predictor(artifact, backend).scores(TEXTS).themes
    np.testing.assert_allclose(themes, Predictor(artifact).scores(TEXTS).themes, atol=INT8_TOLERANCE)


def test_a_failed_export_leaves_no_cached_file_and_old_leftovers_are_removed(
        artifact: Artifact, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(artifact: Artifact, path: Path, quantize: bool = True, part: str = "") -> None:
        path.write_bytes(b"half a model")
        raise OnnxExportError("simulated crash mid-export")

    (tmp_path / "onnx").mkdir()
    name = f"{artifact.meta.version}.{onnx_backend.RECIPE}.int8.onnx"
    old, fresh = tmp_path / "onnx" / f".{name}.old.tmp", tmp_path / "onnx" / f".{name}.fresh.tmp"
    old.write_bytes(b"left by a killed export")
    fresh.write_bytes(b"another server exporting right now")
    os.utime(old, (0, 0))
    monkeypatch.setattr(onnx_backend, "export_onnx", crash)
    with pytest.raises(OnnxExportError):
        onnx_model_path(tmp_path, artifact)
    assert list((tmp_path / "onnx").iterdir()) == [fresh]


def test_a_model_for_other_labels_is_refused(artifact: Artifact, int8_model: Path) -> None:
    other = _tiny_artifact()
    other.meta.labels = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: DEFAULT_TAXONOMY.names[:3]})
    with pytest.raises(OnnxExportError, match="3 labels"):
        OnnxBackend(int8_model)._check_fits(other)


def test_load_predictor_runs_the_requested_backend(artifact_dir: Path, int8_model: Path) -> None:
    onnx_predictor = load_predictor(artifact_dir, backend="onnx", threads=1)
    torch_predictor = load_predictor(artifact_dir)
    assert (onnx_predictor.backend.name, torch_predictor.backend.name) == ("onnx", "torch")
    predictions = onnx_predictor.predict(TEXTS, DEFAULT_ACCOUNT)
    assert len(predictions) == len(TEXTS)
    np.testing.assert_allclose(onnx_predictor.scores(TEXTS).sentiment, torch_predictor.scores(TEXTS).sentiment,
                               atol=INT8_TOLERANCE)


def test_load_predictor_rejects_an_unknown_backend_naming_the_allowed_ones(tmp_path: Path) -> None:
    assert BACKENDS == ("torch", "onnx")
    with pytest.raises(ValueError, match=r"one of \['torch', 'onnx'\], got 'tensorrt'"):
        load_predictor(tmp_path / "never-read", backend="tensorrt")
    with pytest.raises(ValueError, match="threads"):
        onnx_backend.session_options(-1)


def test_session_options_pin_threads_and_run_sequentially() -> None:
    import onnxruntime as ort

    options = onnx_backend.session_options(3)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (3, 1)
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert onnx_backend.session_options().intra_op_num_threads == 0  # onnxruntime's "all cores"
