"""The `onnx` backend: the whole network exported to ONNX, quantised to dynamic int8, run by ONNX Runtime.

The int8 model is cached beside the artifact, keyed by its version and by the export recipe:
    <artifact_dir>/onnx/<version>.<RECIPE>.int8.onnx
An artifact's original encoder (models.original_encoder) is cached beside it, fused but fp32:
    <artifact_dir>/onnx/<version>.<RECIPE>.original.fp32.onnx
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
from onnxruntime.transformers.optimizer import optimize_model
from torch import nn

from verbatim.models.artifact import META_FILE, Artifact, ArtifactError
from verbatim.models.backend import probabilities
from verbatim.models.encoder import PreTrainedModel, PreTrainedTokenizerBase
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.original_encoder import OriginalColumns

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_DIR = "onnx"
# Part of the cache key: bump it whenever the export, fusion or quantisation below changes,
# so a server never reuses a model built by an older recipe.
RECIPE = "r2"  # r2: the tag sentiment output
ORIGINAL_SUFFIX = "original"  # the original encoder's pooled embedding (models.original_encoder)
# The original encoder is not quantised. Its accounts' heads are fitted on fp32 embeddings
# (training.embedding_cache) to match the linear probe on the same encoder, and int8 embeddings
# cost them accuracy: on BANKING77 (3 samplings of 8 and 16 examples per tag, the rest of the
# train split as test) the probe scored 0.8219 and 0.8731 on fp32 embeddings, 0.8201 and 0.8724
# on this recipe's int8 ones, and 0.8219 and 0.8731 on the fused fp32 graph. Only the rows of
# the accounts read from it pay for the slower pass.
ORIGINAL_PRECISION = "fp32"
OPSET = 17
STALE_TEMP_SECONDS = 3600
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("themes", "sentiment", "tag_sentiment")
# The recipe, chosen on the seed dev split with the trained MiniLM (see training/parity.py):
# - Fused Attention and the encoder's MatMuls carry almost all weights and time; the heads are
#   tiny and quantising them only adds error, so they stay fp32.
# - Dynamic quantisation scales activations per tensor, and the feed-forward blocks of the early
#   layers see outlier-heavy activations: int8 there caused most of the error. Quantising every
#   block changed 7-9% of comments' tag sets and cost 0.01-0.02 theme micro-F1 (dev and test);
#   keeping the first half of the blocks fp32 cut that to 3-5% and under 0.01, for less speed-up.
# - Per-channel weight scales with reduce_range keep the u8s8 kernels of CPUs without VNNI
#   from saturating; they halved the probability error of per-tensor scales.
QUANTIZED_OPS = ("MatMul", "Attention")
FP32_FFN_SHARE = 0.5
PER_CHANNEL = True
REDUCE_RANGE = True
_FFN_NODE = re.compile(r"/layer\.(\d+)/(?:intermediate|output)/dense/")


class OnnxExportError(RuntimeError):
    """An artifact that could not be exported, or an exported model that does not load."""


class _Probabilities(nn.Module):
    def __init__(self, net: ThemeSentimentNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return probabilities(*self.net(input_ids, attention_mask))


class _Pooled(nn.Module):
    def __init__(self, original: OriginalColumns) -> None:
        super().__init__()
        self.original = original

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.original.embed(input_ids, attention_mask)


def _export_fp32(wrapper: nn.Module, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path,
                 outputs: tuple[str, ...]) -> None:
    # `wrapper` is a copy, because the export switches its `encoder` to "eager" attention (ORT's
    # fuser recognises only that graph) and toggles train/eval, and the artifact's own modules
    # may be serving torch meanwhile.
    encoder.set_attn_implementation("eager")
    wrapper.eval()
    # Two right-padded rows, so the traced graph contains the padding mask path.
    sample = tokenizer(["an example comment for tracing", "short"], padding=True, return_tensors="pt")
    args = (sample["input_ids"].to(torch.int64), sample["attention_mask"].to(torch.int64))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {name: {0: "batch"} for name in outputs}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter: the dynamo one needs onnxscript. Its tracer warnings are about
        # shape checks in transformers' mask code that are constant for a bidirectional encoder;
        # the tests check that other batch sizes, lengths and padding still agree with torch.
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, str(path), dynamo=False, input_names=list(INPUT_NAMES),
                          output_names=list(outputs), dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True)


def _fuse(source: Path, target: Path, encoder: PreTrainedModel) -> None:
    config = encoder.config
    options = FusionOptions("bert")
    # The raw 2-D mask rather than the default "mask index", which silently assumes right padding.
    options.attention_mask_format = AttentionMaskFormat.AttentionMask
    # opt_level 1 only: higher levels bake hardware-specific kernels into the saved file.
    model = optimize_model(str(source), model_type="bert", num_heads=config.num_attention_heads,
                           hidden_size=config.hidden_size, optimization_options=options, opt_level=1)
    model.save_model_to_file(str(target))


def _not_preprocessing_advice(record: logging.LogRecord) -> bool:
    return "pre-processing before quantization" not in record.getMessage()


def quantized_nodes(model: onnx.ModelProto, num_layers: int) -> list[str]:
    """The encoder nodes the recipe quantises: all of QUANTIZED_OPS except the feed-forward
    MatMuls of the first FP32_FFN_SHARE of the layers and anything outside the encoder."""
    fp32_layers = int(num_layers * FP32_FFN_SHARE)
    chosen = []
    for node in model.graph.node:
        if node.op_type not in QUANTIZED_OPS or "head/" in node.name:
            continue
        ffn = _FFN_NODE.search(node.name)
        if ffn and int(ffn.group(1)) < fp32_layers:
            continue
        chosen.append(node.name)
    return chosen


def _quantize(source: Path, target: Path, num_layers: int) -> None:
    # quantize_dynamic logs advice to the root logger to run quant_pre_process first; that step's
    # symbolic shape inference fails on this fused graph, so the advice is only noise in server logs.
    root = logging.getLogger()
    root.addFilter(_not_preprocessing_advice)
    try:
        nodes = quantized_nodes(onnx.load(str(source), load_external_data=False), num_layers)
        if not nodes:  # an empty list would make quantize_dynamic quantise every node
            raise OnnxExportError(f"no {list(QUANTIZED_OPS)} nodes to quantise in the exported encoder")
        # Fused ops live in the com.microsoft domain, where ONNX shape inference cannot type
        # their outputs; the quantiser needs a default type for them.
        quantize_dynamic(source, target, op_types_to_quantize=list(QUANTIZED_OPS), nodes_to_quantize=nodes,
                         per_channel=PER_CHANNEL, reduce_range=REDUCE_RANGE, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.removeFilter(_not_preprocessing_advice)


def export_onnx(artifact: Artifact, path: Path, quantize: bool = True, part: str = "") -> None:
    """Write the whole network (encoder, masked mean pooling, both heads) to `path` as ONNX;
    with `part` ORIGINAL_SUFFIX, the artifact's original encoder and its pooling instead.

    Inputs are int64 `input_ids` and `attention_mask` [batch, sequence], both axes dynamic;
    outputs are theme probabilities [batch, labels], sentiment probabilities [batch, 3] and tag
    sentiment probabilities [batch, labels, 3] (the original encoder: `pooled` [batch, hidden]).
    The graph is fused for ONNX Runtime and, unless `quantize` is False, its weights are
    quantised to dynamic int8.
    """
    if part == ORIGINAL_SUFFIX:
        assert artifact.original is not None
        wrapper: nn.Module = _Pooled(copy.deepcopy(artifact.original))
        encoder, outputs = wrapper.original.encoder, ("pooled",)
    else:
        wrapper = _Probabilities(copy.deepcopy(artifact.net))
        encoder, outputs = wrapper.net.encoder, OUTPUT_NAMES
    with tempfile.TemporaryDirectory(prefix="verbatim-onnx-") as scratch:
        exported, fused = Path(scratch) / "exported.onnx", Path(scratch) / "fused.onnx"
        try:
            _export_fp32(wrapper, encoder, artifact.tokenizer, exported, outputs)
            _fuse(exported, fused, encoder)
            if quantize:
                _quantize(fused, path, encoder.config.num_hidden_layers)
            else:
                path.write_bytes(fused.read_bytes())
        except Exception as exc:
            raise OnnxExportError(f"cannot export model {artifact.meta.version} to ONNX: {exc}") from exc


def _artifact_version(artifact_dir: Path) -> str:
    try:
        return str(json.loads((artifact_dir / META_FILE).read_text())["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"cannot read the version of the artifact at {artifact_dir}: {exc}") from exc


def _cache_dir(artifact_dir: Path) -> Path:
    beside = artifact_dir / CACHE_DIR
    try:
        beside.mkdir(exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    except OSError:
        pass
    # A registry on a read-only volume still serves; each process then exports into its own temp dir.
    key = hashlib.sha256(str(artifact_dir.resolve()).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / "verbatim-onnx" / key
    logger.warning("%s is not writable; caching the ONNX model in %s instead", artifact_dir, fallback)
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _remove_stale_temp_files(directory: Path, name: str) -> None:
    # Left by a process killed mid-export; a live exporter's file is minutes old at most.
    for stale in directory.glob(f".{name}.*.tmp"):
        try:
            if time.time() - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                stale.unlink()
        except OSError:
            pass  # another process removed or replaced it first


def onnx_model_path(artifact_dir: Path, artifact: Artifact | None = None, *, rebuild: bool = False,
                    part: str = "") -> Path:
    """The int8 ONNX model of the artifact in `artifact_dir` (with `part` ORIGINAL_SUFFIX, the
    ORIGINAL_PRECISION model of its original encoder), exported on first use and cached beside it.

    `artifact`, when the caller has already loaded it, saves loading it again. The file appears
    only by os.replace() of a complete temp file, so a crash or a concurrent server never leaves
    a half-written model in place. `rebuild` exports again even if a cached file exists.
    """
    version = artifact.meta.version if artifact is not None else _artifact_version(artifact_dir)
    directory = _cache_dir(artifact_dir)
    precision = ORIGINAL_PRECISION if part == ORIGINAL_SUFFIX else "int8"
    path = directory / f"{version}.{RECIPE}{'.' + part if part else ''}.{precision}.onnx"
    if path.is_file() and not rebuild:
        return path
    artifact = artifact if artifact is not None else Artifact.load(artifact_dir)
    _remove_stale_temp_files(directory, path.name)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    temp = Path(name)
    try:
        logger.info("exporting model %s to ONNX %s at %s", version, precision, path)
        export_onnx(artifact, temp, quantize=precision == "int8", part=part)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def session_options(threads: int = 0) -> ort.SessionOptions:
    """Options for one inference session: `threads` intra-op threads (0 = all cores), sequential."""
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = all cores), got {threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # The model is one chain of ops; a second pool would only compete for the same cores.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle intra-op threads sleep rather than spin: on a small machine a spinning pool takes the
    # cores the event loop and gRPC need between batches. Measured on 2 cores at 30 requests/s:
    # the server's CPU use fell from 0.98 to 0.42 cores, with the same latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxBackend:
    """An InferenceBackend that runs an exported model with ONNX Runtime on the CPU."""

    name = "onnx"

    def __init__(self, model_path: Path, threads: int = 0) -> None:
        self.model_path = model_path
        self.session = ort.InferenceSession(str(model_path), session_options(threads),
                                            providers=["CPUExecutionProvider"])
        outputs = [o.name for o in self.session.get_outputs()]
        if tuple(outputs) != OUTPUT_NAMES:
            raise OnnxExportError(f"{model_path} has outputs {outputs}, expected {list(OUTPUT_NAMES)}")
        self.num_labels = self.session.get_outputs()[0].shape[1]
        self.original: OnnxOriginalColumns | None = None  # the artifact's, if it has any (for_artifact)

    @classmethod
    def for_artifact(cls, artifact_dir: Path, artifact: Artifact, threads: int = 0) -> OnnxBackend:
        """The backend for a loaded artifact, from its cached int8 model (built if missing,
        rebuilt once if the cached file does not load or does not fit the artifact)."""
        backend = _cached(artifact_dir, artifact, lambda path: cls(path, threads)._check_fits(artifact))
        if artifact.original is not None:
            original = artifact.original
            backend.original = _cached(artifact_dir, artifact, lambda path: OnnxOriginalColumns(path, original, threads),
                                       ORIGINAL_SUFFIX)
        return backend

    def _check_fits(self, artifact: Artifact) -> OnnxBackend:
        if self.num_labels != len(artifact.meta.labels):
            raise OnnxExportError(f"{self.model_path} has {self.num_labels} theme outputs, "
                                  f"model {artifact.meta.version} has {len(artifact.meta.labels)} labels")
        return self

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        themes, sentiment, tag_sentiment = self.session.run(list(OUTPUT_NAMES), {
            "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
        })
        return themes, sentiment, tag_sentiment


class OnnxOriginalColumns:
    """An artifact's original-encoder columns (models.original_encoder) on ONNX Runtime: the
    encoder's fp32 pooled embedding (ORIGINAL_PRECISION), then the artifact's head in numpy."""

    def __init__(self, model_path: Path, original: OriginalColumns, threads: int = 0) -> None:
        self.session = ort.InferenceSession(str(model_path), session_options(threads),
                                            providers=["CPUExecutionProvider"])
        outputs = [o.name for o in self.session.get_outputs()]
        if outputs != ["pooled"]:
            raise OnnxExportError(f"{model_path} has outputs {outputs}, expected ['pooled']")
        self.columns = original.columns
        self.weight = original.head.weight.detach().cpu().numpy().T
        self.bias = original.head.bias.detach().cpu().numpy()

    def probabilities(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """[n, len(columns)] float32 probabilities for padded int64 inputs."""
        width = max(int(attention_mask.sum(1).max()), 1)
        (pooled,) = self.session.run(["pooled"], {
            "input_ids": np.ascontiguousarray(input_ids[:, :width], dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask[:, :width], dtype=np.int64),
        })
        return (1.0 / (1.0 + np.exp(-(pooled @ self.weight + self.bias)))).astype(np.float32)


def _cached(artifact_dir: Path, artifact: Artifact, open_model: Callable[[Path], T], part: str = "") -> T:
    """`open_model` of the cached ONNX model (built if missing), rebuilt once if the cached file
    does not load or does not fit the artifact."""
    path = onnx_model_path(artifact_dir, artifact, part=part)
    try:
        return open_model(path)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for bad files
        logger.warning("cached ONNX model %s is unusable (%s); exporting it again", path, exc)
    return open_model(onnx_model_path(artifact_dir, artifact, rebuild=True, part=part))
