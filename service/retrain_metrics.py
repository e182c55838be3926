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
- `<registry>/reports/*.json`, one per retrain run (training/retrain_report.py):
    `decision`       "promoted" | "rejected" | "nothing-new" | "failed" -> the `outcome` label
                     of verbatim_retrain_runs_total (any other value counts as "other");
    `durations_s`    seconds per stage; `total` when present, else the sum of the stages
                     -> verbatim_retrain_duration_seconds, of the latest run;
    `finished_at`    optional, ISO 8601 or Unix seconds; else the file's mtime (reports are
                     written atomically when a run ends) -> the run's end time.
  A run succeeded unless its decision is "failed": a rejected challenger is the gate
  working. -> verbatim_retrain_last_success_timestamp_seconds.
Unreadable files are skipped (and logged once); the series that depend on them are absent.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from verbatim.models.registry import REPORTS_DIR

logger = logging.getLogger(__name__)

OUTCOMES = ("promoted", "rejected", "nothing-new", "failed", "other")
FAILED = "failed"


@dataclass(frozen=True)
class RunReport:
    """The few facts of one retrain report that metrics need."""

    outcome: str
    duration_s: float | None
    finished_at: float


def parse_report(data: dict[str, Any], mtime: float) -> RunReport:
    """Read a report's decision, duration and end time; tolerant of missing keys."""
    decision = data.get("decision")
    outcome = decision if isinstance(decision, str) and decision in OUTCOMES else "other"
    durations = data.get("durations_s")
    duration: float | None = None
    if isinstance(durations, dict):
        if _number(durations.get("total")) is not None:
            duration = _number(durations["total"])
        else:
            stages = [v for v in map(_number, durations.values()) if v is not None]
            duration = sum(stages) if stages else None
    return RunReport(outcome, duration, _timestamp(data.get("finished_at")) or mtime)


def champion_micro_f1(meta: dict[str, Any]) -> float | None:
    """evaluation.seed_test.themes.micro_f1 of an artifact.json, or None."""
    try:
        return _number(meta["evaluation"]["seed_test"]["themes"]["micro_f1"])
    except (KeyError, TypeError):
        return None


class RetrainCollector(Collector):
    """A prometheus_client collector over one registry directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._reports: dict[str, tuple[tuple[int, int], RunReport | None]] = {}
        # per version: artifacts are immutable
        self._champion: dict[str, tuple[float | None, float | None]] = {}

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        runs, duration, success, f1, created = self._families()
        reports = self._read_reports()
        counts = dict.fromkeys(OUTCOMES, 0)
        for report in reports:
            counts[report.outcome] += 1
        for outcome, count in counts.items():
            runs.add_metric([outcome], count)
        if reports:
            latest = max(reports, key=lambda r: r.finished_at)
            if latest.duration_s is not None:
                duration.add_metric([], latest.duration_s)
            successes = [r.finished_at for r in reports if r.outcome != FAILED]
            if successes:
                success.add_metric([], max(successes))
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
            CounterMetricFamily("verbatim_retrain_runs", "Retrain runs with a report in the registry, by outcome.",
                                labels=["outcome"]),
            GaugeMetricFamily("verbatim_retrain_duration_seconds", "Duration of the latest retrain run."),
            GaugeMetricFamily("verbatim_retrain_last_success_timestamp_seconds",
                              "Unix time the latest retrain run that did not fail ended."),
            GaugeMetricFamily("verbatim_champion_micro_f1",
                              "Theme micro-F1 of the registry's champion on the seed test split."),
            GaugeMetricFamily("verbatim_champion_created_timestamp_seconds",
                              "Unix time the registry's champion was trained."),
        )

    def _read_reports(self) -> list[RunReport]:
        directory = self.root / REPORTS_DIR
        try:
            paths = [p for p in directory.glob("*.json") if not p.name.startswith(".")]
        except OSError:
            return []
        seen: dict[str, tuple[tuple[int, int], RunReport | None]] = {}
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue  # removed since the listing
            key = (stat.st_mtime_ns, stat.st_size)
            cached = self._reports.get(path.name)
            if cached is not None and cached[0] == key:
                seen[path.name] = cached
                continue
            try:
                data = json.loads(path.read_text())
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                seen[path.name] = (key, parse_report(data, stat.st_mtime))
            except (OSError, ValueError) as exc:
                logger.warning("skipping unreadable retrain report %s: %s", path, exc)
                seen[path.name] = (key, None)
        self._reports = seen  # forget deleted files
        return [report for _, report in seen.values() if report is not None]

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
            facts = (champion_micro_f1(meta), _timestamp(meta.get("created_at"))) if isinstance(meta, dict) \
                else (None, None)
            self._champion = {version: facts}
        return self._champion[version]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _timestamp(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.timestamp() if moment.tzinfo is not None else None
    return _number(value)
