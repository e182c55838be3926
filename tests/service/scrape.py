"""Scraping a server's /metrics over HTTP, for the metrics tests."""

from __future__ import annotations

import os
import shutil
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape_text(port: int, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        assert response.status == 200
        return response.read().decode()


def parse(text: str) -> Samples:
    """Every sample, keyed by (sample name, frozenset of its labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(key)[label] for sample, key in samples if sample == name}


def require_binary(name: str) -> str:
    """The binary's path. Missing: a failure under CI (env CI set), else a skip with the fix."""
    path = shutil.which(name)
    if path is None:
        message = f"`{name}` is not installed; run `bash .ci/prometheus.sh` (installs Debian's prometheus package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
