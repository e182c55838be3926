"""--device and VERBATIM_DEVICE: names, resolution, the one-line error without CUDA, mixed
precision, and an artifact that predicts the same wherever it is loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from verbatim.models.device import DeviceError, check_device, resolve_device
from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.training.precision import Precision

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA on this machine (torch.cuda.is_available() is False)")
without_cuda = pytest.mark.skipif(CUDA, reason="this machine has CUDA; the error is for machines without it")
TEXTS = ["The Slack integration keeps crashing", "Way too expensive", "Dashboard looks great", "fine"]


@pytest.mark.parametrize("name, normal", [("auto", "auto"), (" CPU ", "cpu"), ("cuda", "cuda"), ("cuda:3", "cuda:3")])
def test_device_names_are_normalised(name: str, normal: str) -> None:
    assert check_device(name) == normal


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:x", "cuda:-1", "", "mps", "cpu:0"])
def test_other_device_names_are_refused_naming_the_choices(name: str) -> None:
    with pytest.raises(DeviceError, match="auto, cpu, cuda or cuda:N"):
        check_device(name)


def test_cpu_and_auto_resolve_to_what_the_machine_has() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")


@without_cuda
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_cuda_says_how_to_fix_it(name: str) -> None:
    with pytest.raises(DeviceError) as caught:
        resolve_device(name)
    message = str(caught.value)
    assert "CUDA is not available" in message and "--device cpu" in message and "\n" not in message


@without_cuda
@pytest.mark.parametrize("argv", [["train", "--device", "cuda"], ["retrain", "--device", "cuda:1"],
                                  ["evaluate", "--data", "x.jsonl", "--device", "cuda"]])
def test_the_cli_fails_at_start_up_in_one_line(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from verbatim.cli import main

    assert main([*argv, "--registry", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--device" in err and "CUDA is not available" in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing started


def test_a_malformed_device_flag_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from verbatim.training.__main__ import main

    assert main(["train", "--device", "gpu", "--registry", str(tmp_path)]) == 2
    assert "--device" in capsys.readouterr().err


def test_verbatim_device_is_read_and_checked_by_the_service_config() -> None:
    assert ServiceConfig().device == "auto"
    assert ServiceConfig.from_sources({}, {"VERBATIM_DEVICE": "cuda:1", "VERBATIM_BACKEND": "torch"}).device == "cuda:1"
    with pytest.raises(ConfigError, match="VERBATIM_DEVICE is 'gpu': expected auto, cpu, cuda or cuda:N"):
        ServiceConfig.from_sources({}, {"VERBATIM_DEVICE": "gpu"})
    with pytest.raises(ConfigError, match="VERBATIM_DEVICE is 'cuda'.*VERBATIM_BACKEND=torch"):
        ServiceConfig.from_sources({}, {"VERBATIM_DEVICE": "cuda", "VERBATIM_BACKEND": "onnx"})
    with pytest.raises(ConfigError, match="--device is 'tpu'"):
        ServiceConfig.from_sources({"device": "tpu"}, {})


def test_precision_is_plain_fp32_on_the_cpu() -> None:
    precision = Precision(torch.device("cpu"))
    assert precision.name == "fp32" and precision.scaler is None
    with precision.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


@needs_cuda
def test_precision_on_cuda_is_bf16_or_scaled_fp16() -> None:
    precision = Precision(torch.device("cuda"))
    assert precision.name == ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
    assert (precision.scaler is None) == (precision.name == "bf16")
    with precision.autocast():
        assert (torch.ones(2, 2, device="cuda") @ torch.ones(2, 2, device="cuda")).dtype == precision.dtype


def _devices() -> list[str]:
    return ["cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]


@pytest.mark.parametrize("device", _devices())
def test_a_cpu_trained_artifact_predicts_the_same_on_every_device(tiny_registry: Registry, device: str) -> None:
    path = tiny_registry.champion_path()
    assert path is not None
    reference = Predictor.load(Path(path)).scores(TEXTS)  # as trained: fp32 on the CPU
    predictor = load_predictor(Path(path), "torch", device=device)
    scores = predictor.scores(TEXTS)
    if device == "cpu":
        assert np.array_equal(scores.themes, reference.themes) and np.array_equal(scores.sentiment, reference.sentiment)
    else:  # served in fp16: within fp16's resolution of the probabilities
        assert np.allclose(scores.themes, reference.themes, atol=1e-2)
        assert np.allclose(scores.sentiment, reference.sentiment, atol=1e-2)


@needs_cuda
def test_an_artifact_trained_on_cuda_loads_on_the_cpu(tmp_path: Path) -> None:
    from verbatim.models.artifact import Artifact
    from verbatim.models.encoder import tiny_random_encoder
    from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
    from verbatim.training.config import TrainingConfig
    from verbatim.training.corpus import Record
    from verbatim.training.distributed import Runtime
    from verbatim.training.train import train

    records = [Record(f"r{i}", text, frozenset({"Bug"} if i % 2 else {"Price"}), "negative") for i, text in
               enumerate(TEXTS * 4)]
    config = TrainingConfig(epochs=1, batch_size=4, max_length=32, pair_rounds=0)
    artifact = train(records, records, {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}, config, "v-cuda", tiny_random_encoder,
                     progress=False, runtime=Runtime(device=torch.device("cuda")))
    on_gpu = Predictor(artifact).scores(TEXTS)
    artifact.save(tmp_path / "v")
    loaded = Artifact.load(tmp_path / "v")
    assert next(loaded.net.parameters()).device.type == "cpu"
    assert loaded.meta.training_config["device"].startswith("cuda")
    assert np.allclose(Predictor(loaded).scores(TEXTS).themes, on_gpu.themes, atol=1e-4)
