"""Load an artifact directory into a Predictor that runs on the chosen inference backend."""

from __future__ import annotations

from pathlib import Path

import torch

from models.artifact import Artifact
from models.backend import InferenceBackend, TorchBackend
from models.predictor import Predictor

BACKENDS: tuple[str, ...] = ("torch", "onnx")


def check_backend(backend: str) -> str:
    """`backend` if it is a known backend name; ValueError naming the allowed values otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    return backend


def make_backend(backend: str, artifact_dir: Path, artifact: Artifact, threads: int = 0) -> InferenceBackend:
    """The named backend for an already loaded artifact; `threads` 0 means all cores."""
    check_backend(backend)
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = all cores), got {threads}")
    if backend == "onnx":
        try:
            from models.onnx_backend import OnnxBackend
        except ImportError as exc:  # onnx and onnxruntime are the optional extra `verbatim[onnx]`
            raise RuntimeError(f"backend 'onnx' needs onnx and onnxruntime (pip install 'verbatim[onnx]'): {exc}") \
                from exc
        return OnnxBackend.for_artifact(artifact_dir, artifact, threads)
    if threads:
        # torch has one intra-op pool per process, so this applies to every torch model in it.
        torch.set_num_threads(threads)
    return TorchBackend(artifact.net)


def load_predictor(artifact_dir: Path, backend: str = "torch", threads: int = 0) -> Predictor:
    """Load the artifact in `artifact_dir` and serve it with `backend` ("torch" or "onnx").

    The onnx backend exports and caches its int8 model beside the artifact on first use.
    Raises ValueError for an unknown backend, before any loading, and ArtifactError for a
    broken artifact.
    """
    check_backend(backend)
    artifact = Artifact.load(artifact_dir)
    return Predictor(artifact, make_backend(backend, artifact_dir, artifact, threads))
