"""The README's Python client example runs as written against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from verbatim.models.predictor import Predictor
from tests.service.harness import serving

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_client_example_runs(tiny_predictor: Predictor) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "the README has no Python example"
    with serving(tiny_predictor) as harness:
        result = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "VERBATIM_TARGET": f"127.0.0.1:{harness.port}"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"model {tiny_predictor.version}"
    assert lines[1].startswith("c1 [") and lines[2].startswith("c2 [")
    assert re.search(r"(NEGATIVE|NEUTRAL|POSITIVE)", lines[1])
