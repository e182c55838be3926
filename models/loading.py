"""Load an artifact directory into a Predictor that runs on the chosen inference backend."""

from __future__ import annotations

from pathlib import Path

import torch

from verbatim.models.artifact import Artifact
from verbatim.models.backend import InferenceBackend, TorchBackend
from verbatim.models.backend_names import BACKENDS, check_backend
from verbatim.models.device import resolve_device
from verbatim.models.predictor import Predictor

def make_backend(backend: str, artifact_dir: Path, artifact: Artifact, threads: int = 0,
                 device: str = "cpu") -> InferenceBackend:
    """The named backend for an already loaded artifact; `threads` 0 means all cores.

    `device` (models.device: auto, cpu, cuda, cuda:N) places the torch backend; onnx runs on the CPU.
    """
    check_backend(backend)
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = all cores), got {threads}")
    if backend == "onnx":
        try:
            from verbatim.models.onnx_backend import OnnxBackend
        except ImportError as exc:  # a core dependency, so only a broken environment gets here
            raise RuntimeError(f"backend 'onnx' needs onnx and onnxruntime, dependencies of verbatim: {exc}") \
                from exc
        return OnnxBackend.for_artifact(artifact_dir, artifact, threads)
    if threads:
        # torch has one intra-op pool per process, so this applies to every torch model in it.
        torch.set_num_threads(threads)
    return TorchBackend.on_device(artifact.net, resolve_device(device))


def load_predictor(artifact_dir: Path, backend: str = "torch", threads: int = 0, device: str = "cpu") -> Predictor:
    """Load the artifact in `artifact_dir` and serve it with `backend` ("torch" or "onnx").

    The onnx backend exports and caches its int8 model beside the artifact on first use.
    Raises ValueError for an unknown backend or device (DeviceError), before any loading, and
    ArtifactError for a broken artifact. An artifact loads on any device, whichever it was trained on.
    """
    check_backend(backend)
    if backend == "torch":
        resolve_device(device)
    artifact = Artifact.load(artifact_dir)
    return Predictor(artifact, make_backend(backend, artifact_dir, artifact, threads, device))
