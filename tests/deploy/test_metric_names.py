"""Every PromQL query in the Grafana dashboard and the alert rules names series that a real
verbatim server exposes, with labels it really sets.

The exposed names are not a list written here: a server with the tiny model is started, does
some work (so that labelled families have samples), and its /metrics is scraped over HTTP.
Histogram `_bucket/_sum/_count` and counter `_total` names are therefore the real ones.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.v1 import verbatim_pb2 as pb
from tests.deploy.files import PROMETHEUS, alert_rules, dashboard, dashboard_queries, yaml_file
from tests.deploy.promql import Query, alternatives, read
from tests.service.harness import classify, comment, rpc_error, serving
from tests.service.scrape import scrape_text

# Series Prometheus itself writes for every target, not the server
# (prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series).
SCRAPE_SERIES = {"up"}
SCRAPE_LABELS = {"job", "instance"}


@dataclass(frozen=True)
class Exposition:
    labels: dict[str, set[str]]  # sample name -> label names it carries
    values: dict[tuple[str, str], set[str]]  # (sample name, label) -> values seen


def _registry_with_retrain_reports(root: Path) -> Path:
    """A registry with a champion and a retrain report, so the retrain series have samples."""
    registry = Registry(root)
    (registry.versions_dir / "v1").mkdir(parents=True)
    (registry.versions_dir / "v1" / "artifact.json").write_text(
        json.dumps({"created_at": "2026-12-01T00:00:00+00:00",
                    "evaluation": {"seed_test": {"themes": {"micro_f1": 0.5}}}}))
    registry.promote("v1")
    (root / "reports").mkdir()
    # One run that failed and one that did not: every retrain series then has a sample.
    (root / "reports" / "r1.json").write_text(json.dumps({"decision": "failed", "durations_s": {"total": 3.0}}))
    (root / "reports" / "r2.json").write_text(json.dumps({"decision": "promoted", "durations_s": {"total": 9.0}}))
    return root


@pytest.fixture(scope="module")
def exposition(tiny_predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exposition]:
    root = _registry_with_retrain_reports(tmp_path_factory.mktemp("registry"))
    with serving(tiny_predictor, registry=root, max_text_chars=80) as h:
        h.stub.ClassifyComments(classify(comment("a", "The Slack integration keeps crashing"),
                                         comment("b", "Way too expensive")), timeout=30)
        assert rpc_error(lambda: h.stub.ClassifyComments(classify(comment("c", "x" * 81)), timeout=10)).code() == \
            grpc.StatusCode.INVALID_ARGUMENT
        text = scrape_text(h.server.metrics_port)
    labels: dict[str, set[str]] = defaultdict(set)
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels[sample.name] |= set(sample.labels)
            for key, value in sample.labels.items():
                values[(sample.name, key)].add(value)
    yield Exposition(dict(labels), dict(values))


def target_labels() -> set[str]:
    """Labels every scraped series gets: Prometheus's own plus those prometheus.yml relabels in."""
    config = yaml_file(PROMETHEUS / "prometheus.yml")
    relabelled = {rule["target_label"] for job in config["scrape_configs"]
                  for rule in job.get("relabel_configs", []) if "target_label" in rule}
    return SCRAPE_LABELS | relabelled


def closed_values(label: str) -> set[str] | None:
    """Every value a label can take, where the server draws it from a closed set it does not own."""
    if label == "code":
        return {code.name for code in grpc.StatusCode}
    if label == "rpc":
        return {method.name for method in pb.DESCRIPTOR.services_by_name["Verbatim"].methods}
    return None


def problems(query: Query, exposed: Exposition) -> list[str]:
    found: list[str] = []
    carried = set(target_labels())
    for selector in query.selectors:
        if selector.metric in SCRAPE_SERIES:
            continue
        if selector.metric not in exposed.labels:
            found.append(f"{selector.metric} is not exposed")
            continue
        carried |= exposed.labels[selector.metric]
        for matcher in selector.matchers:
            if matcher.label in target_labels():
                continue
            if matcher.label not in exposed.labels[selector.metric]:
                found.append(f"{selector.metric} has no label {matcher.label}")
                continue
            allowed = closed_values(matcher.label) or exposed.values[(selector.metric, matcher.label)]
            for value in alternatives(matcher):
                if value not in allowed:
                    found.append(f"{selector.metric}{{{matcher.label}}} never takes the value {value!r}")
    for label in query.grouping_labels - carried:
        found.append(f"groups by {label}, which no series of the query carries")
    return found


def test_the_scrape_has_the_families_the_queries_need(exposition: Exposition) -> None:
    """The server really did expose labelled and retrain series, so a missing name means a wrong query."""
    assert "verbatim_requests_total" in exposition.labels
    assert "verbatim_request_latency_seconds_bucket" in exposition.labels
    assert "verbatim_retrain_runs_total" in exposition.labels


def test_every_dashboard_query_names_exposed_series(exposition: Exposition) -> None:
    queries = dashboard_queries()
    assert queries
    found = [f"{title}: {expr}: " + "; ".join(p) for title, expr in queries if (p := problems(read(expr), exposition))]
    assert not found, "\n".join(found)


def test_every_dashboard_variable_names_exposed_series(exposition: Exposition) -> None:
    variables = [v for v in dashboard()["templating"]["list"] if v["type"] == "query"]
    assert variables
    for variable in variables:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        metric, label = query.removeprefix("label_values(").removesuffix(")").split(",")
        assert metric.strip() in exposition.labels, query
        assert label.strip() in exposition.labels[metric.strip()] | target_labels(), query


def test_every_alert_names_exposed_series(exposition: Exposition) -> None:
    rules = alert_rules()
    assert rules
    found = [f"{rule['alert']}: " + "; ".join(p) for rule in rules if (p := problems(read(rule["expr"]), exposition))]
    assert not found, "\n".join(found)


def test_the_check_catches_a_wrong_name_label_or_value(exposition: Exposition) -> None:
    """The checks above can fail: typical slips are each reported."""
    assert problems(read("rate(verbatim_requests[5m])"), exposition) == ["verbatim_requests is not exposed"]
    assert problems(read("verbatim_request_latency_seconds"), exposition)  # a histogram's bare name
    assert problems(read('verbatim_requests_total{method="X"}'), exposition)
    assert problems(read('verbatim_requests_total{code="INTERNAL_ERROR"}'), exposition)
    assert problems(read('verbatim_retrain_runs_total{outcome="crashed"}'), exposition)
    assert problems(read("sum by (tag) (verbatim_sentiment_total)"), exposition)
    assert not problems(read('sum by (label) (verbatim_sentiment_total{label="negative", namespace="x"})'), exposition)
