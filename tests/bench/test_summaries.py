"""`verbatim bench summaries` on a small run: both paths timed, the same answer, a readable table."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.analytics import summarize_responses
from verbatim.bench.summaries import CURRENT, format_table, run, synthetic_responses
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_TAXONOMY


def test_synthetic_responses_are_reproducible_and_span_both_quarters() -> None:
    first, again = synthetic_responses(500, DEFAULT_TAXONOMY, seed=3), synthetic_responses(500, DEFAULT_TAXONOMY, 3)
    assert first == again
    in_current = sum(r.time in CURRENT for r in first)
    assert 150 < in_current < 350  # about half of 183 days fall in Q3
    summary = summarize_responses(first, DEFAULT_TAXONOMY)
    assert summary.overall.responses == 500 and summary.tags


@pytest.mark.timeout(300)
def test_a_small_run_times_both_paths(tiny_registry: Registry) -> None:
    report = run(tiny_registry.root, responses=2000, repeats=2, progress=False)  # raises if the answers differ
    assert set(report["median_s"]) == {"in_process", "grpc"}
    assert all(len(report["seconds"][path]) == 2 and min(report["seconds"][path]) > 0 for path in report["seconds"])
    table = format_table(report)
    assert "2,000 responses" in table and "SummarizeResponses over loopback" in table


def test_without_a_champion_it_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="run `verbatim train`"):
        run(tmp_path, responses=10, repeats=1, progress=False)
