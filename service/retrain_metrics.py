"""Retraining metrics, read from what the retrain job leaves in the model registry.

The retrain job is a separate process (cron, CronJob), so the server exports its results
rather than the job pushing them: every replica that shares the registry volume reports
the same figures, and nothing is lost when the job exits. Files are read at scrape time,
and each one is parsed once (cached by name, size and mtime).

What is read:
- `<registry>/champion` names the champion; its `versions/<v>/artifact.json` holds
  `evaluation.seed_test.themes.micro_f1` (written by training.default_model and the
  retrain job) -> verbatim_champion_micro_f1, and `created_at` (ISO 8601)
  -> verbatim_champion_created_timestamp_seconds, for an alert on a stale champion.
- `<registry>/reports/run-tally` (models.run_tally), which the retrain job updates with each run:
  the runs by outcome -> verbatim_retrain_runs_total{outcome}; the latest run's duration ->
  verbatim_retrain_duration_seconds; the end of the latest run that did not fail ->
  verbatim_retrain_last_success_timestamp_seconds. Reports are pruned, the tally is not, so the
  counter never goes down. A registry without a tally yet is counted from its report files.
Unreadable files are skipped (and logged once); the series that depend on them are absent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from verbatim.models.run_tally import OUTCOMES, number, read_tally, tally_of_reports, timestamp

logger = logging.getLogger(__name__)


def champion_micro_f1(meta: dict[str, Any]) -> float | None:
    """evaluation.seed_test.themes.micro_f1 of an artifact.json, or None."""
    try:
        return number(meta["evaluation"]["seed_test"]["themes"]["micro_f1"])
    except (KeyError, TypeError):
        return None


class RetrainCollector(Collector):
    """A prometheus_client collector over one registry directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # per version: artifacts are immutable
        self._champion: dict[str, tuple[float | None, float | None]] = {}

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        runs, duration, success, f1, created = self._families()
        tally = read_tally(self.root) or tally_of_reports(self.root)
        for outcome in OUTCOMES:
            runs.add_metric([outcome], tally.counts.get(outcome, 0))
        if tally.latest_duration_s is not None:
            duration.add_metric([], tally.latest_duration_s)
        if tally.last_success_at is not None:
            success.add_metric([], tally.last_success_at)
        score, created_at = self._champion_facts()
        if score is not None:
            f1.add_metric([], score)
        if created_at is not None:
            created.add_metric([], created_at)
        yield from (runs, duration, success, f1, created)

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily,
                                 GaugeMetricFamily]:
        return (
            CounterMetricFamily("verbatim_retrain_runs", "Retrain runs recorded in the registry, by outcome.",
                                labels=["outcome"]),
            GaugeMetricFamily("verbatim_retrain_duration_seconds", "Duration of the latest retrain run."),
            GaugeMetricFamily("verbatim_retrain_last_success_timestamp_seconds",
                              "Unix time the latest retrain run that did not fail ended."),
            GaugeMetricFamily("verbatim_champion_micro_f1",
                              "Theme micro-F1 of the registry's champion on the seed test split."),
            GaugeMetricFamily("verbatim_champion_created_timestamp_seconds",
                              "Unix time the registry's champion was trained."),
        )

    def _champion_facts(self) -> tuple[float | None, float | None]:
        """The champion's seed-test micro-F1 and creation time, each None when unknown."""
        try:
            version = (self.root / "champion").read_text().strip()
        except OSError:
            return None, None
        if not version or "/" in version:
            return None, None
        if version not in self._champion:
            try:
                meta = json.loads((self.root / "versions" / version / "artifact.json").read_text())
            except (OSError, ValueError) as exc:
                logger.warning("cannot read the champion %s's artifact.json: %s", version, exc)
                return None, None  # not cached: the artifact may still be appearing
            facts = (champion_micro_f1(meta), timestamp(meta.get("created_at"))) if isinstance(meta, dict) \
                else (None, None)
            self._champion = {version: facts}
        return self._champion[version]

