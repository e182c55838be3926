"""deploy/prometheus: the scrape config, the alert rules and their promtool unit tests.

promtool comes from Debian's prometheus package (`bash .ci/prometheus.sh`). Under CI (env CI
set) a missing promtool fails these tests; elsewhere they are skipped with that hint.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from verbatim.service.config import ServiceConfig
from tests.deploy.files import PROMETHEUS, alert_rules, one, yaml_file
from tests.deploy.promql import read
from tests.service.scrape import require_binary

NEVER = "vector(1) < 0"  # an expression with no result
ALWAYS = "vector(1)"


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def alert_names() -> list[str]:
    return [rule["alert"] for rule in alert_rules()]


def rule_tests() -> dict[str, Any]:
    return yaml_file(PROMETHEUS / "alerts_test.yml")


def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_promtool_test_rules() -> None:
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_config(tmp_path: Path) -> None:
    """prometheus.yml is valid. Debian's build of Prometheus has no Kubernetes service
    discovery, so the check runs on a copy whose kubernetes_sd_configs become a static target;
    the relabelling, rule files and everything else are checked as written."""
    config = yaml_file(PROMETHEUS / "prometheus.yml")
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["127.0.0.1:50052"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    for rule_file in config["rule_files"]:
        (tmp_path / rule_file).write_text((PROMETHEUS / rule_file).read_text())
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_every_alert_has_a_summary_description_severity_and_for() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule["alert"]


def test_the_alerts_the_issue_asks_for_exist() -> None:
    """High error rate, queue near capacity, p99 latency, champion age, retrain failures and a
    rising needs-review rate, each on the series it is about."""
    metrics_of = {rule["alert"]: read(rule["expr"]).metrics for rule in alert_rules()}
    wanted = {"VerbatimHighErrorRate": "verbatim_requests_total",
              "VerbatimQueueNearCapacity": "verbatim_queue_depth",
              "VerbatimHighLatencyP99": "verbatim_request_latency_seconds_bucket",
              "VerbatimChampionStale": "verbatim_champion_created_timestamp_seconds",
              "VerbatimRetrainFailed": "verbatim_retrain_runs_total",
              "VerbatimNeedsReviewRising": "verbatim_needs_review_total"}
    for alert, metric in wanted.items():
        assert metric in metrics_of[alert], alert
    assert "verbatim_queue_capacity" in metrics_of["VerbatimQueueNearCapacity"]
    assert "histogram_quantile" in read(next(r["expr"] for r in alert_rules()
                                             if r["alert"] == "VerbatimHighLatencyP99")).functions


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for group in rule_tests()["tests"]:
        for case in group.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    assert firing == set(alert_names())
    assert silent == set(alert_names())


def _groups_testing(alert: str) -> list[dict[str, Any]]:
    return [group for group in rule_tests()["tests"]
            if any(case["alertname"] == alert for case in group.get("alert_rule_test", []))]


def _run_with_expr(tmp_path: Path, alert: str, expr: str) -> subprocess.CompletedProcess[str]:
    """promtool test rules on the tests of `alert`, against rules where its expr is replaced."""
    rules = yaml_file(PROMETHEUS / "alerts.yml")
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == alert:
                rule["expr"] = expr
    tests = copy.deepcopy(rule_tests())
    tests["tests"] = _groups_testing(alert)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules))
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(tests))
    return promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)


@pytest.mark.parametrize("alert", alert_names())
def test_the_unit_tests_catch_an_alert_that_never_or_always_fires(alert: str, tmp_path: Path) -> None:
    """Mutations: each alert's unit tests fail when its expression is replaced by one that never
    fires, and again by one that always does. So the tests do pin both directions down.
    (Unmutated, the same tests pass: test_promtool_test_rules.)"""
    for mutation in (NEVER, ALWAYS):
        result = _run_with_expr(tmp_path, alert, mutation)
        assert result.returncode != 0, f"{alert} with expr {mutation!r} still passes its tests:\n{result.stdout}"


def deployment_config() -> ServiceConfig:
    """The server's settings as the Deployment sets them (the secret's value does not matter here)."""
    container = one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", "sqlite:///placeholder.db") for e in container["env"]}
    return ServiceConfig.from_sources({}, env)


def test_alert_job_names_are_scraped() -> None:
    jobs = {job["job_name"] for job in yaml_file(PROMETHEUS / "prometheus.yml")["scrape_configs"]}
    named = {m.value for rule in alert_rules() for s in read(rule["expr"]).selectors
             for m in s.matchers if m.label == "job"}
    assert named and named <= jobs


def _relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus's keep, drop and replace relabelling (its defaults: separator ';', regex
    '(.*)' anchored at both ends, replacement '$1'); None when the target is dropped."""
    labels = dict(labels)
    for rule in rules:
        action = rule.get("action", "replace")
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule.get("source_labels", []))
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if action == "keep" and not match:
            return None
        if action == "drop" and match:
            return None
        if action == "replace" and match:
            replacement = rule.get("replacement", "$1")
            labels[rule["target_label"]] = re.sub(r"\$\{?(\d+)\}?", lambda g: match.group(int(g.group(1))) or "",
                                                  replacement)
        assert action in {"keep", "drop", "replace"}, f"unsimulated relabel action {action}"
    return labels


def _pod_targets(kind: str, template: dict[str, Any]) -> list[dict[str, str]]:
    """The targets Kubernetes pod discovery makes for a pod template: one per container port."""
    meta = {"__meta_kubernetes_namespace": "prod", "__meta_kubernetes_pod_name": f"{kind.lower()}-abc12"}
    for name, value in template["metadata"].get("labels", {}).items():
        meta["__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", name)] = value
    targets = []
    for container in template["spec"]["containers"]:
        for port in container.get("ports", [{}]):
            targets.append(meta | {"__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                                   "__address__": f"10.0.0.1:{port.get('containerPort', 80)}"})
    return targets


def test_scrape_config_keeps_the_servers_metrics_port_only() -> None:
    job = next(j for j in yaml_file(PROMETHEUS / "prometheus.yml")["scrape_configs"] if j["job_name"] == "verbatim")
    assert [sd["role"] for sd in job["kubernetes_sd_configs"]] == ["pod"]
    server = one("Deployment")["spec"]["template"]
    retrain = one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    kept = [t for t in (_relabel(t, job["relabel_configs"]) for t in _pod_targets("Deployment", server)) if t]
    assert [t["__address__"] for t in kept] == [f"10.0.0.1:{deployment_config().metrics_port}"]
    assert kept[0]["pod"] == "deployment-abc12" and kept[0]["namespace"] == "prod"
    assert not [t for t in _pod_targets("CronJob", retrain) if _relabel(t, job["relabel_configs"])]

