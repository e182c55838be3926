"""What a retrain decided and why: one JSON document plus a Markdown summary, written atomically."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from verbatim.models.registry import REPORTS_DIR, atomic_write
from verbatim.models.run_tally import record_run
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.training.evaluate import Outcomes
from verbatim.training.paired_bootstrap import Statistic, accuracy, delta_upper_bound, micro_f1



class Decision(str, Enum):
    PROMOTED = "promoted"
    REJECTED = "rejected"
    NOTHING_NEW = "nothing-new"
    FAILED = "failed"


# Below this many held-out comments an account's comparison is reported but does not block:
# one comment moves micro-F1 on 5 comments by 0.1 or more, so a 0.01 margin there measures
# luck, and a new account would never get past the keyword rules it starts with.
MIN_GATE_COMMENTS = 30


@dataclass
class GateCheck:
    """One comparison of the gate on one account's held-out data: the challenger fails when it is
    below champion - margin and, where the paired comments are known (`delta_upper`: the 95 %
    upper bound of challenger - champion), that drop is beyond luck too. Binding only with at
    least `min_comments` held-out comments."""

    account: str
    metric: str
    challenger: float
    champion: float | None
    margin: float
    comments: int
    min_comments: int = MIN_GATE_COMMENTS
    delta_upper: float | None = None

    @property
    def binding(self) -> bool:
        return self.champion is not None and self.comments >= self.min_comments

    @property
    def past_margin(self) -> bool:
        return self.champion is not None and self.challenger < self.champion - self.margin - 1e-9

    @property
    def within_noise(self) -> bool:
        return self.delta_upper is not None and self.delta_upper >= -self.margin

    @property
    def passed(self) -> bool:
        return not self.binding or not self.past_margin or self.within_noise

    def explain(self) -> str:
        if self.champion is None:
            return f"{self.account}: {self.metric} {self.challenger:.4f} (no champion figure)"
        verdict = "ok" if self.passed else "WORSE"
        if not self.binding:
            verdict = f"not binding: fewer than {self.min_comments} held-out comments"
        elif self.passed and self.past_margin:
            verdict = "ok: the drop is within what resampling the comments gives"
        bound = "" if self.delta_upper is None else f", 95 % upper bound {self.delta_upper:+.4f}"
        return (f"{self.account}: {self.metric} {self.challenger:.4f} vs champion {self.champion:.4f} "
                f"(delta {self.challenger - self.champion:+.4f}{bound}, margin {self.margin}, "
                f"{self.comments} held-out comments) {verdict}")


def gate_checks(evaluation: Mapping[str, Mapping[str, dict | None]], margin: float,
                min_comments: int = MIN_GATE_COMMENTS,
                outcomes: Mapping[str, Mapping[str, Outcomes]] | None = None) -> list[GateCheck]:
    """Theme micro-F1 on every account's held-out data, and sentiment accuracy on the default account's.

    `outcomes`: per account, the challenger's and champion's per-comment outcomes, for the
    paired bound; without them a check is the plain margin comparison.
    """
    checks = []
    for account, sides in sorted(evaluation.items()):
        new, old = sides["challenger"], sides["champion"]
        assert new is not None
        paired = (outcomes or {}).get(account, {})

        def bound(field: str, statistic: Statistic) -> float | None:
            if "champion" not in paired:
                return None
            return delta_upper_bound(getattr(paired["challenger"], field), getattr(paired["champion"], field),
                                     statistic)
        checks.append(GateCheck(account, "micro_f1", new["themes"]["micro_f1"],
                                old["themes"]["micro_f1"] if old else None, margin, new["comments"], min_comments,
                                bound("themes", micro_f1)))
        if account == DEFAULT_ACCOUNT and new["sentiment"]["count"]:
            checks.append(GateCheck(account, "sentiment_accuracy", new["sentiment"]["accuracy"],
                                    old["sentiment"]["accuracy"] if old else None, margin, new["sentiment"]["count"],
                                    min_comments, bound("sentiment", accuracy)))
    return checks


@dataclass
class RetrainReport:
    """The outcome of one retrain. `exit_code`: 0 promoted or nothing new, 3 rejected, 1 failed."""

    decision: Decision
    reasons: list[str]
    mode: str
    champion_before: str | None
    champion_after: str | None
    challenger: str | None
    data_fingerprint: str
    margin: float
    dataset: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: list[GateCheck] = field(default_factory=list)
    durations_s: dict[str, float] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    started_at: str = ""
    finished_at: str = ""

    @property
    def exit_code(self) -> int:
        return {Decision.REJECTED: 3, Decision.FAILED: 1}.get(self.decision, 0)

    def to_json(self) -> dict[str, Any]:
        """The whole report; `reports/*.json` holds exactly this."""
        data = asdict(self)
        data["decision"] = self.decision.value
        data["gate"] = [asdict(c) | {"binding": c.binding, "passed": c.passed} for c in self.gate]
        return data

    def summary(self) -> dict[str, Any]:
        """The part stored in the challenger's meta.evaluation: decision, gate and headline figures."""
        return {
            "decision": self.decision.value, "reasons": self.reasons, "mode": self.mode,
            "champion_before": self.champion_before, "margin": self.margin,
            "gate": [asdict(c) | {"passed": c.passed} for c in self.gate],
            "heldout": {account: {side: _headline(result) for side, result in sides.items() if result}
                        for account, sides in self.evaluation.items()},
            "dataset": {account: {k: v for k, v in counts.items() if k != "positives"}
                        for account, counts in self.dataset.get("accounts", {}).items()},
            "durations_s": dict(self.durations_s),
        }

    def write(self, root: Path) -> None:
        """`<root>/reports/<challenger or run id>.json` and `.md`, one pair per run; sets `paths`."""
        directory, name = root / REPORTS_DIR, self.challenger or self.run_id
        self.paths = {"json": str(directory / f"{name}.json"), "markdown": str(directory / f"{name}.md")}
        document = self.to_json()
        record_run(root, document, time.time())  # first: a registry without a tally counts the older reports
        atomic_write(Path(self.paths["json"]), json.dumps(document, indent=2))
        atomic_write(Path(self.paths["markdown"]), render_markdown(self))


def _headline(result: dict[str, Any]) -> dict[str, float | None]:
    sentiment = result["sentiment"]
    return {"micro_f1": result["themes"]["micro_f1"], "macro_f1": result["themes"]["macro_f1"],
            "sentiment_accuracy": sentiment["accuracy"] if sentiment["count"] else None,
            "comments": result["comments"]}


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_markdown(report: RetrainReport) -> str:
    """A human summary: decision and why, dataset counts, before/after per account and per tag."""
    lines = [f"# Retrain {report.challenger or report.run_id}", "",
             (f"**Decision: {report.decision.value}** ({report.mode}; champion before: "
              f"{report.champion_before or 'none'}, after: {report.champion_after or 'none'}; margin {report.margin})"),
             ""]
    lines += [f"- {reason}" for reason in report.reasons] + [""]
    accounts = report.dataset.get("accounts", {})
    if accounts:
        lines += ["## Dataset", "", "| account | train | dev | held-out | from corrections | from seed |",
                  "|---|---:|---:|---:|---:|---:|"]
        for account, c in sorted(accounts.items()):
            lines.append(f"| {account} | {c['train']} | {c['dev']} | {c['heldout']} | {c['corrections']} "
                         f"| {c['seed']} |")
        lines.append("")
    if report.evaluation:
        lines += ["## Held-out: champion → challenger", "",
                  "| account | comments | micro-F1 | macro-F1 | sentiment accuracy |", "|---|---:|---|---|---|"]
        for account, sides in sorted(report.evaluation.items()):
            new, old = _headline(sides["challenger"]), _headline(sides["champion"]) if sides.get("champion") else {}
            lines.append(f"| {account} | {new['comments']} | "
                         + " | ".join(f"{_cell(old.get(k))} → {_cell(new[k])}"
                                      for k in ("micro_f1", "macro_f1", "sentiment_accuracy")) + " |")
        for account, sides in sorted(report.evaluation.items()):
            lines += ["", f"### {account}: per tag (F1, champion → challenger)", "",
                      "| tag | support | precision | recall | F1 |", "|---|---:|---|---|---|"]
            old_tags = (sides.get("champion") or {}).get("themes", {}).get("per_tag", {})
            for tag, new in sides["challenger"]["themes"]["per_tag"].items():
                old = old_tags.get(tag, {})
                lines.append(f"| {tag} | {new['support']} | " + " | ".join(
                    f"{_cell(old.get(k))} → {_cell(new[k])}" for k in ("precision", "recall", "f1")) + " |")
            confusion = sides["challenger"]["sentiment"]["confusion"]
            if sides["challenger"]["sentiment"]["count"]:
                labels = list(confusion)
                lines += ["", "Sentiment confusion (challenger; rows gold, columns predicted):", "",
                          "| gold \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
                lines += [f"| {g} | " + " | ".join(str(confusion[g][p]) for p in labels) + " |" for g in labels]
    if report.durations_s:
        lines += ["", "## Durations", "", " · ".join(f"{k} {v:.1f} s" for k, v in report.durations_s.items())]
    return "\n".join(lines) + "\n"
