"""The PromQL reader the deploy tests rely on finds metrics, not functions or label names."""

from __future__ import annotations

import pytest

from tests.deploy.promql import Matcher, alternatives, read


def test_reads_metrics_matchers_and_grouping_labels() -> None:
    query = read('sum by (rpc, code) (rate(a_total{code!="OK", rpc=~"X|Y"}[5m])) / ignoring (code) group_left '
                 'sum by (rpc) (rate(a_total[$__rate_interval])) > 0.05 and on (rpc) b offset 14d')
    assert query.metrics == {"a_total", "b"}
    assert query.grouping_labels == {"rpc", "code"}
    assert {"sum", "rate"} <= query.functions
    assert query.selectors[0].matchers == [Matcher("code", "!=", "OK"), Matcher("rpc", "=~", "X|Y")]


def test_reads_nested_functions_and_bare_selectors() -> None:
    query = read('histogram_quantile(0.99, sum by (le) (rate(h_bucket{instance=~"$instance"}[5m]))) > 2.5 '
                 'unless time() - max(g) > 2 * 86400 or {__name__="named"}')
    assert query.metrics == {"h_bucket", "g", "named"}
    assert query.grouping_labels == {"le"}
    assert {"histogram_quantile", "time", "max"} <= query.functions


def test_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError):
        read('a{code="OK"')  # unterminated selector
    with pytest.raises(ValueError):
        read("a # b")


def test_alternatives_of_a_matcher() -> None:
    assert alternatives(Matcher("code", "=~", "INTERNAL|UNKNOWN")) == ["INTERNAL", "UNKNOWN"]
    assert alternatives(Matcher("code", "!=", "OK")) == ["OK"]
    assert alternatives(Matcher("instance", "=~", ".*")) == []
