"""bench/gpu_check.sh on a machine without CUDA: it stops before any work, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.sh"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the script would run the whole check")
def test_without_cuda_it_fails_at_once_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("gpu_check: no CUDA: ") and "CUDA build of torch" in line
    assert f"torch {torch.__version__}" in line
    assert list(tmp_path.iterdir()) == []  # no registry was made: nothing ran


def test_a_python_without_torch_is_named_too(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; sys.exit(\"cannot import torch (test)\")'\n")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHON": str(fake)})
    assert result.returncode == 2 and "cannot import torch (test)" in result.stderr
    assert len(result.stderr.splitlines()) == 1
