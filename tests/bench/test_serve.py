"""`verbatim bench serve`: a --quick run on the tiny model, over real sockets, and its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from verbatim.models.registry import Registry
from verbatim.bench.load import Sample
from verbatim.bench.report import Setting, build_report, format_table

REPO = Path(__file__).resolve().parents[2]
HEADLINE_KEYS = ("ceiling_cps", "verbatim_best_cps", "naive_cps_at_32", "verbatim_cps_at_32", "ratio_vs_ceiling",
                 "ratio_vs_naive_at_32", "p99_ms_at_half_load", "server_peak_rss_mb", "single_client_p50_ms",
                 "mean_batch_size_at_32")


def bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verbatim.cli", "bench", "serve", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, env=os.environ | {"HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="module")
def report(tiny_registry: Registry) -> dict:
    done = bench("--quick", "--json", "--registry", str(tiny_registry.root))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # stdout is the JSON alone; the progress bar goes to stderr


def test_quick_run_reports_every_headline_figure(report: dict) -> None:
    for key in HEADLINE_KEYS:
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report["served_backend"] == "onnx"  # the default, read back from the server's own /metrics
    assert 50 < report["server_peak_rss_mb"] < 4096 and report["naive_peak_rss_mb"] > 50
    assert report["p99_ms_at_half_load"] >= report["p50_ms_at_half_load"] > 0
    assert report["half_load_errors"] == 0 and report["half_load_rps"] > 0
    assert set(report["targets"]) and all(v in (True, False) for v in report["targets"].values())


def test_quick_run_ratios_agree_with_the_figures_they_divide(report: dict) -> None:
    assert report["ratio_vs_ceiling"] == pytest.approx(report["verbatim_best_cps"] / report["ceiling_cps"])
    assert report["ratio_vs_naive_at_32"] == pytest.approx(report["verbatim_cps_at_32"] / report["naive_cps_at_32"])
    verbatim = [r for r in report["settings"] if r["server"] == "verbatim"]
    assert report["verbatim_best_cps"] == max(r["cps"] for r in verbatim)
    best = report["verbatim_best_setting"]
    assert any(r["cps"] == report["verbatim_best_cps"] and (r["clients"], r["size"]) == (best["clients"], best["size"])
               for r in verbatim)


def test_quick_run_measures_every_setting_with_answers_and_batching(report: dict) -> None:
    shapes = {(r["server"], r["clients"], r["size"]) for r in report["settings"]}
    assert shapes == {(s, c, n) for s in ("verbatim", "naive") for c in (1, 32) for n in (1, 8)}
    for row in report["settings"]:
        assert row["errors"] == {}, row
        assert len(row["cps_runs"]) == report["repeats"] == 2 and min(row["cps_runs"]) > 0, row
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], row
        assert row["server_cores"] > 0, row
    at_32 = next(r for r in report["settings"] if (r["server"], r["clients"], r["size"]) == ("verbatim", 32, 1))
    assert at_32["mean_batch_size"] == report["mean_batch_size_at_32"] > 1  # 32 callers shared forward passes
    one = next(r for r in report["settings"] if (r["server"], r["clients"], r["size"]) == ("verbatim", 1, 1))
    assert one["mean_batch_size"] == pytest.approx(1.0)  # a lone caller never waits for company it cannot get


def test_report_ratios_divide_the_medians_over_repeats() -> None:
    def sample(comments: int, latencies_ms: Sequence[float] = (), cores: float = 1.0) -> Sample:
        return Sample(comments=comments, seconds=1.0, latencies=[ms / 1000 for ms in latencies_ms],
                      server_cores=cores)

    verbatim = Setting("verbatim", 32, 1, [sample(300, [10, 20]), sample(100, [30]), sample(200, [40])],
                       [9.0, 10.0, 11.0])
    naive = Setting("naive", 32, 1, [sample(50, [100]), sample(70, [100], 2.0), sample(60, [100], 1.5)])
    single = Setting("verbatim", 1, 1, [sample(20, [30, 40, 50])], [1.0])
    report = build_report([verbatim, naive, single], ceiling=[sample(400, cores=2.0), sample(250), sample(300)],
                          half_load=[sample(10, [5, 6, 200])], half_rates=[100.0],
                          rss_mb={"verbatim": 700.0, "naive": 600.0})
    assert report["ceiling_cps"] == 300 and report["verbatim_cps_at_32"] == 200 and report["naive_cps_at_32"] == 60
    assert report["ratio_vs_ceiling"] == pytest.approx(200 / 300)
    assert report["ratio_vs_naive_at_32"] == pytest.approx(200 / 60)
    assert report["ceiling_over_naive_at_32"] == pytest.approx(300 / 60)
    # per CPU-second: verbatim 300, 100, 200 on one core each; naive 50, 35, 40; ceiling 200, 250, 300
    assert report["ratio_vs_naive_at_32_per_cpu"] == pytest.approx(200 / 40)
    assert report["ratio_vs_ceiling_per_cpu"] == pytest.approx(200 / 250)
    assert report["single_client_p50_ms"] == pytest.approx(40) and report["mean_batch_size_at_32"] == 10
    assert report["targets"] == {"ratio_vs_ceiling >= 0.85": False, "ratio_vs_naive_at_32 >= 3": True,
                                 "p99_ms_at_half_load <= 150": False, "server_peak_rss_mb < 1024": True,
                                 "mean_batch_size_at_32 > 8": True, "single_client_p50_ms < 50": True}
    report |= {"repeats": 3, "window_s": 3.0, "backend": "torch", "model_version": "v1", "ceiling_batch": 16}
    assert "b/a = 0.67" in format_table(report) and "b/c = 3.33" in format_table(report)


def test_an_unknown_server_setting_fails_before_anything_starts(tmp_path: Path) -> None:
    done = bench("--set", "max_dela_ms=2", "--registry", str(tmp_path), timeout=60)
    assert done.returncode == 2 and "max_dela_ms" in done.stderr and "max_delay_ms" in done.stderr
    done = bench("--set", "max_delay_ms=-1", "--registry", str(tmp_path), timeout=60)
    assert done.returncode == 2 and "VERBATIM_MAX_DELAY_MS" in done.stderr
