"""The client README's example runs as written against a real server (a separate process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.service.harness import Harness
from verbatim.models.predictor import Predictor

README = Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md"


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "the client README has no Python example"
    return blocks[0]


def check_example_output(stdout: str, model_version: str) -> None:
    """What the example prints: the model, then one line per comment, in input order."""
    lines = stdout.splitlines()
    assert lines[0] == f"model {model_version}"
    assert len(lines) == 3 and lines[1].startswith("c1 [") and lines[2].startswith("c2 [")
    assert re.search(r"\] (NEGATIVE|NEUTRAL|POSITIVE) -?\d", lines[1])
    assert "'Integrations \u203a Slack'" in lines[1] or "'Bug'" in lines[1]  # keyword rules, even a random model


def test_the_readme_example_classifies_through_a_real_server(server: Harness, tiny_predictor: Predictor) -> None:
    result = subprocess.run([sys.executable, "-c", readme_example()], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "VERBATIM_TARGET": f"127.0.0.1:{server.port}"})
    assert result.returncode == 0, result.stderr
    check_example_output(result.stdout, tiny_predictor.version)
