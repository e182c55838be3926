"""The exposition passes `promtool check metrics` (Prometheus's own parser and linter).

promtool comes from Debian's prometheus package: `bash .ci/prometheus.sh`. Under CI (env CI
set) a missing promtool fails the test; elsewhere it is skipped with that hint.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import grpc

from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from tests.service.harness import classify, comment, rpc_error, serving
from tests.service.scrape import parse, require_binary, scrape_text


def _registry_with_a_retrain(root: Path) -> Path:
    """A registry with a champion and one retrain report, so every retrain series has a sample."""
    registry = Registry(root)
    (registry.versions_dir / "v1").mkdir(parents=True)
    (registry.versions_dir / "v1" / "artifact.json").write_text(
        json.dumps({"evaluation": {"seed_test": {"themes": {"micro_f1": 0.75}}}}))
    registry.promote("v1")
    (root / "reports").mkdir()
    (root / "reports" / "v1.json").write_text(json.dumps({"decision": "promoted", "durations_s": {"total": 42.0}}))
    return root


def test_exposition_passes_promtool_check_metrics(tiny_predictor: Predictor, tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    with serving(tiny_predictor, registry=_registry_with_a_retrain(tmp_path), max_text_chars=80) as h:
        h.stub.ClassifyComments(classify(comment("a", "The Slack integration keeps crashing"),
                                         comment("b", "Way too expensive")), timeout=30)
        h.stub.ClassifyComments(classify(comment("c", "The weekly report is late"), account="acme"), timeout=30)
        assert rpc_error(lambda: h.stub.ClassifyComments(classify(comment("d", "x" * 81)), timeout=10)).code() == \
            grpc.StatusCode.INVALID_ARGUMENT
        text = scrape_text(h.server.metrics_port)
    names = {name for name, _ in parse(text)}
    # Every family has samples, so promtool checks them all.
    assert {"verbatim_requests_total", "verbatim_request_latency_seconds_bucket", "verbatim_batch_tokens_bucket",
            "verbatim_model_info", "verbatim_retrain_runs_total", "verbatim_retrain_duration_seconds",
            "verbatim_retrain_last_success_timestamp_seconds", "verbatim_champion_micro_f1"} <= names
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"promtool check metrics:\n{result.stdout}{result.stderr}"
    assert not result.stdout.strip() and not result.stderr.strip(), result.stdout + result.stderr


def test_promtool_rejects_a_broken_exposition() -> None:
    """The check above can fail: promtool does flag bad text."""
    promtool = require_binary("promtool")
    bad = "# TYPE verbatim_x counter\nverbatim_x_total{code=\"OK\"} not-a-number\n"
    result = subprocess.run([promtool, "check", "metrics"], input=bad, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
