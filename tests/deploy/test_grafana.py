"""deploy/grafana/verbatim.json: a well-formed dashboard that shows what the issue asks for.

That its queries name series the server really exposes is test_metric_names.py's job.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

from tests.deploy.files import dashboard, dashboard_queries
from tests.deploy.promql import read

GRID_COLUMNS = 24  # Grafana's grid width


def _panels() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            found.append(panel)
            walk(panel.get("panels", []))

    walk(dashboard()["panels"])
    return found


def _variables() -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard()["templating"]["list"]}


def test_dashboard_identity() -> None:
    board = dashboard()
    assert board["uid"] and board["title"]
    assert isinstance(board["schemaVersion"], int)
    assert "id" not in board or board["id"] is None  # an id is per Grafana instance: importing would clash


def test_panels_have_unique_ids_and_do_not_overlap() -> None:
    panels = _panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    boxes = []
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        boxes.append((panel["title"], grid["x"], grid["y"], grid["x"] + grid["w"], grid["y"] + grid["h"]))
    for (a, ax0, ay0, ax1, ay1), (b, bx0, by0, bx1, by1) in combinations(boxes, 2):
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"{a!r} overlaps {b!r}"


def test_every_panel_queries_the_datasource_variable() -> None:
    variables = _variables()
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for panel in _panels():
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]


def test_every_query_follows_the_replica_variable() -> None:
    instance = _variables()["instance"]
    assert instance["includeAll"] and instance["allValue"] == ".*"
    for title, expr in dashboard_queries():
        for selector in read(expr).selectors:
            assert any(m.label == "instance" and m.op == "=~" and m.value == "$instance"
                       for m in selector.matchers), f"{title}: {selector.metric}"


def test_rates_use_grafanas_intervals() -> None:
    """A fixed [5m] looks wrong when zoomed far in or out; $__rate_interval and $__range do not."""
    for title, expr in dashboard_queries():
        for window in re.findall(r"\[([^\]]*)\]", expr):
            assert window in {"$__rate_interval", "$__range"}, f"{title}: [{window}]"


def _queries_on(metric: str) -> list[str]:
    return [expr for _, expr in dashboard_queries() if metric in read(expr).metrics]


def test_shows_what_the_issue_asks_for() -> None:
    """Throughput, latency percentiles, batch size, queue depth, tag mix, sentiment mix and
    needs-review rate (issue 12, part 6)."""
    assert any("rate" in read(e).functions for e in _queries_on("verbatim_requests_total"))  # throughput
    assert any("rate" in read(e).functions for e in _queries_on("verbatim_comments_classified_total"))
    quantiles = {re.search(r"histogram_quantile\(\s*([0-9.]+)", e).group(1)  # type: ignore[union-attr]
                 for e in _queries_on("verbatim_request_latency_seconds_bucket")}
    assert {"0.5", "0.99"} <= quantiles and len(quantiles) >= 3
    assert _queries_on("verbatim_batch_size_bucket") or _queries_on("verbatim_batch_size_sum")
    assert _queries_on("verbatim_queue_depth")
    assert any("tag" in read(e).grouping_labels for e in _queries_on("verbatim_tag_predictions_total"))
    assert any("label" in read(e).grouping_labels for e in _queries_on("verbatim_sentiment_total"))
    assert any("verbatim_comments_classified_total" in read(e).metrics and "/" in e
               for e in _queries_on("verbatim_needs_review_total"))
