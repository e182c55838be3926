"""bench.original_cost: served throughput of an account read from the original encoder, beside the default's."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.bench.original_cost import run
from verbatim.models.artifact import Artifact
from verbatim.models.registry import Registry, new_version

from tests.original_columns import ACCOUNT, with_original_account


def test_the_second_pass_costs_the_original_accounts_throughput(tiny_registry: Registry, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tiny_registry.champion_path()
    assert path is not None
    _, served = with_original_account(Artifact.load(Path(path)))
    served.meta.version = new_version("original")
    registry = Registry(tmp_path / "registry")
    with registry.stage(served.meta.version) as directory:
        served.save(directory)
    registry.promote(served.meta.version)
    monkeypatch.setenv("VERBATIM_BACKEND", "torch")  # no ONNX export: seconds, not a minute
    report = run(registry.root, ACCOUNT, clients=2, size=8, seconds=1.5, warmup=0.3, repeats=2)
    assert report["errors"] == 0 and len(report["ratio_per_repeat"]) == 2
    # The tiny champion (2 layers, 32 wide) against MiniLM (6 layers, 384 wide) in the second pass:
    # far more than twice the compute per comment, so the account gets well under half the rate.
    assert report["median_ratio"] < 0.5, report
    with pytest.raises(RuntimeError, match="not 'acme'"):
        run(registry.root, "acme")
