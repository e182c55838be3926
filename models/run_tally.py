"""The running tally of retrain runs, kept beside their reports: what the retrain metrics count.

Reports are pruned (`models.retention`), so a counter read from the report files would go down. The
retrain job records each run here as it writes the run's report (under the retrain lock); the servers
read this one small file per scrape instead of every report. A registry from before the tally existed
is counted from its report files once, when the first run records itself (and by the metrics until then).

Each report (training/retrain_report.py) holds:
    `decision`     "promoted" | "rejected" | "nothing-new" | "failed" (anything else counts as "other");
    `durations_s`  seconds per stage; `total` when present, else the sum of the stages;
    `finished_at`  optional, ISO 8601 or Unix seconds; else the file's mtime.
A run succeeded unless its decision is "failed": a rejected challenger is the gate working.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from verbatim.models.registry import REPORTS_DIR, atomic_write

logger = logging.getLogger(__name__)

TALLY_FILE = "run-tally"  # no .json suffix: never taken for a report
OUTCOMES = ("promoted", "rejected", "nothing-new", "failed", "other")
FAILED = "failed"


@dataclass(frozen=True)
class RunReport:
    """The few facts of one retrain report that the tally needs."""

    outcome: str
    duration_s: float | None
    finished_at: float


@dataclass
class RunTally:
    """Runs by outcome since the registry began, and the latest run's facts (Unix seconds)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    latest_duration_s: float | None = None
    latest_finished_at: float | None = None
    last_success_at: float | None = None

    def add(self, run: RunReport) -> None:
        """Count `run`; the latest facts follow the run that finished last."""
        self.counts[run.outcome] = self.counts.get(run.outcome, 0) + 1
        if self.latest_finished_at is None or run.finished_at >= self.latest_finished_at:
            self.latest_finished_at, self.latest_duration_s = run.finished_at, run.duration_s
        if run.outcome != FAILED and (self.last_success_at is None or run.finished_at > self.last_success_at):
            self.last_success_at = run.finished_at


def parse_report(data: dict[str, Any], mtime: float) -> RunReport:
    """A report's decision, duration and end time; tolerant of missing keys."""
    decision = data.get("decision")
    outcome = decision if isinstance(decision, str) and decision in OUTCOMES else "other"
    durations = data.get("durations_s")
    duration: float | None = None
    if isinstance(durations, dict):
        if number(durations.get("total")) is not None:
            duration = number(durations["total"])
        else:
            stages = [v for v in map(number, durations.values()) if v is not None]
            duration = sum(stages) if stages else None
    return RunReport(outcome, duration, timestamp(data.get("finished_at")) or mtime)


def read_tally(root: Path) -> RunTally | None:
    """The registry's tally, None when it has none yet (or it cannot be read: logged)."""
    path = Path(root) / REPORTS_DIR / TALLY_FILE
    try:
        data = json.loads(path.read_text())
        counts = {str(k): int(v) for k, v in data["counts"].items()}
        return RunTally(dict.fromkeys(OUTCOMES, 0) | counts, number(data.get("latest_duration_s")),
                        number(data.get("latest_finished_at")), number(data.get("last_success_at")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("cannot read the retrain tally %s: %s", path, exc)
        return None


def tally_of_reports(root: Path) -> RunTally:
    """The tally counted from the report files themselves (a registry from before the tally)."""
    tally = RunTally()
    for path in sorted((Path(root) / REPORTS_DIR).glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            tally.add(parse_report(data, path.stat().st_mtime))
        except (OSError, ValueError) as exc:
            logger.warning("skipping unreadable retrain report %s: %s", path, exc)
    return tally


def record_run(root: Path, report: dict[str, Any], finished_at: float) -> RunTally:
    """Count one run (its report's JSON) into the registry's tally and write it atomically. Call it under
    the retrain lock, before the report itself is written (a registry without a tally is counted from
    its existing reports first)."""
    tally = read_tally(root) or tally_of_reports(root)
    tally.add(parse_report(report, finished_at))
    atomic_write(Path(root) / REPORTS_DIR / TALLY_FILE, json.dumps(asdict(tally), indent=2))
    return tally


def number(value: Any) -> float | None:
    """`value` as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def timestamp(value: Any) -> float | None:
    """Unix seconds of an ISO 8601 time with an offset, or of a number; else None."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment.timestamp() if moment.tzinfo is not None else None
    return number(value)
