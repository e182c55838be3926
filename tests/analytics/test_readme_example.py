"""The README's analytics example runs as written and prints what one detractor's response implies."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_analytics_example_runs() -> None:
    section = README.read_text().split("## Analytics: the Tags tab in Python", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert example, "no Python example in the README's analytics section"
    done = subprocess.run([sys.executable, "-c", example.group(1)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # One response, a detractor (3) tagged Slack and Bug: NPS -100 for Bug, Slack and its parent
    # Integrations; removing any of them leaves no scored response, so no impact; 1 < min_count 30.
    rows = sorted(line.split() for line in done.stdout.splitlines())
    assert rows == [["Bug", "1", "-100.0", "None", "True"], ["Integrations", "1", "-100.0", "None", "True"],
                    ["Slack", "1", "-100.0", "None", "True"]]
