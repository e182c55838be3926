"""The report of `verbatim bench serve`: medians over repeats, ratios, targets, the table."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from verbatim.bench.load import Sample

Report = dict[str, Any]

# The done-when checks of issues 3 and 5, meant for a quiet 2-core machine:
# report key, comparison, bound.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("ratio_vs_ceiling", ">=", 0.85),
    ("ratio_vs_naive_at_32", ">=", 3.0),
    ("p99_ms_at_half_load", "<=", 150.0),
    ("server_peak_rss_mb", "<", 1024.0),
    ("mean_batch_size_at_32", ">", 8.0),
    ("single_client_p50_ms", "<", 50.0),
)
_COMPARE = {">=": float.__ge__, "<=": float.__le__, "<": float.__lt__, ">": float.__gt__}


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass
class Setting:
    """One server under one load shape, with a Sample per repeat."""

    server: str  # "verbatim" or "naive"
    clients: int
    size: int  # comments per request
    samples: list[Sample] = field(default_factory=list)
    mean_batch: list[float | None] = field(default_factory=list)  # from the server's /metrics, per repeat

    def row(self) -> Report:
        s = self.samples
        return {"server": self.server, "clients": self.clients, "size": self.size,
                "cps": median([x.cps for x in s]), "cps_runs": [round(x.cps, 2) for x in s],
                **{f"p{q}_ms": median([x.percentile_ms(q) for x in s]) for q in (50, 95, 99)},
                "errors": dict(sum((x.errors for x in s), Counter())),
                "server_cores": median([x.server_cores for x in s]),
                "cps_per_cpu": median([x.cps_per_cpu for x in s]),
                "client_cores": median([x.client_cores for x in s]),
                "mean_batch_size": median(self.mean_batch)}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def build_report(settings: Sequence[Setting], ceiling: Sequence[Sample], half_load: Sequence[Sample],
                 half_rates: Sequence[float], rss_mb: dict[str, float]) -> Report:
    """Every figure of the run. Ratios divide the reported medians, so they agree with them.

    The *_per_cpu figures divide comments by the CPU time of the process doing the work (the
    server, or this one for the ceiling): a second view, steadier than comments/s when
    other work shares the machine.
    """
    rows = [s.row() for s in settings]
    by_key = {(r["server"], r["clients"], r["size"]): r for r in rows}
    best = max((r for r in rows if r["server"] == "verbatim"), key=lambda r: r["cps"])
    at_32 = {server: by_key.get((server, 32, 1), {}) for server in ("verbatim", "naive")}
    ceiling_cps, ceiling_per_cpu = median([c.cps for c in ceiling]), median([c.cps_per_cpu for c in ceiling])
    report: Report = {
        "ceiling_cps": ceiling_cps, "ceiling_cps_runs": [round(c.cps, 2) for c in ceiling],
        "verbatim_best_cps": best["cps"],
        "verbatim_best_setting": {"clients": best["clients"], "size": best["size"]},
        "naive_cps_at_32": at_32["naive"].get("cps"), "verbatim_cps_at_32": at_32["verbatim"].get("cps"),
        "ratio_vs_ceiling": _ratio(best["cps"], ceiling_cps),
        "ratio_vs_naive_at_32": _ratio(at_32["verbatim"].get("cps"), at_32["naive"].get("cps")),
        # The most any batching server could reach against naive here: the in-process ceiling has
        # no gRPC at all, so b/c <= a/c whatever the batcher does.
        "ceiling_over_naive_at_32": _ratio(ceiling_cps, at_32["naive"].get("cps")),
        "ceiling_cps_per_cpu": ceiling_per_cpu,
        "ratio_vs_ceiling_per_cpu": _ratio(best["cps_per_cpu"], ceiling_per_cpu),
        "ratio_vs_naive_at_32_per_cpu": _ratio(at_32["verbatim"].get("cps_per_cpu"), at_32["naive"].get("cps_per_cpu")),
        "p50_ms_at_half_load": median([s.percentile_ms(50) for s in half_load]),
        "p99_ms_at_half_load": median([s.percentile_ms(99) for s in half_load]),
        "half_load_rps": statistics.median(half_rates) if half_rates else None,
        "half_load_errors": sum(sum(s.errors.values()) for s in half_load),
        "single_client_p50_ms": by_key.get(("verbatim", 1, 1), {}).get("p50_ms"),
        "mean_batch_size_at_32": by_key.get(("verbatim", 32, 1), {}).get("mean_batch_size"),
        "server_peak_rss_mb": rss_mb["verbatim"], "naive_peak_rss_mb": rss_mb["naive"],
        "settings": rows,
    }
    report["targets"] = {f"{key} {op} {bound:g}": None if report[key] is None
                         else _COMPARE[op](float(report[key]), bound) for key, op, bound in TARGETS}
    return report


def _f(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def format_table(r: Report) -> str:
    """The report for people: one row per setting, then the headline figures and targets."""
    header = (f"{'server':<9}{'C':>5}{'n':>4}{'comments/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
              f"{'batch':>7}{'srv cores':>10}{'cli cores':>10}  errors")
    lines = [header]  # srv cores: CPU used by the server process (the ceiling: by this one)
    for row in r["settings"]:
        errors = ", ".join(f"{k} {v}" for k, v in row["errors"].items()) or "-"
        lines.append(f"{row['server']:<9}{row['clients']:>5}{row['size']:>4}{_f(row['cps']):>12}"
                     f"{_f(row['p50_ms']):>9}{_f(row['p95_ms']):>9}{_f(row['p99_ms']):>9}"
                     f"{_f(row['mean_batch_size']):>7}{_f(row['server_cores'], '.2f'):>10}"
                     f"{_f(row['client_cores'], '.2f'):>10}  {errors}")
    best = r["verbatim_best_setting"]
    verdicts = "; ".join(f"{k}: {'-' if v is None else ('yes' if v else 'NO')}" for k, v in r["targets"].items())
    lines += [
        "",
        f"(a) ceiling, in-process batched:        {_f(r['ceiling_cps']):>8} comments/s   "
        f"(length-sorted batches of {r['ceiling_batch']})",
        f"(b) verbatim, best (C={best['clients']}, n={best['size']}):".ljust(41)
        + f"{_f(r['verbatim_best_cps']):>8} comments/s   b/a = {_f(r['ratio_vs_ceiling'], '.2f')}"
        f"   (per CPU-second: {_f(r['ratio_vs_ceiling_per_cpu'], '.2f')})",
        f"(c) naive, 32 single-comment clients:   {_f(r['naive_cps_at_32']):>8} comments/s   "
        f"b/c = {_f(r['ratio_vs_naive_at_32'], '.2f')}   (per CPU-second: "
        f"{_f(r['ratio_vs_naive_at_32_per_cpu'], '.2f')}; verbatim {_f(r['verbatim_cps_at_32'])} comments/s; "
        f"bound a/c = {_f(r['ceiling_over_naive_at_32'], '.2f')})",
        f"open loop, single comments at half the single-comment peak ({_f(r['half_load_rps'])}/s): "
        f"p50 {_f(r['p50_ms_at_half_load'])} ms, p99 {_f(r['p99_ms_at_half_load'])} ms, "
        f"errors {r['half_load_errors']}",
        f"one client, one comment: p50 {_f(r['single_client_p50_ms'])} ms; "
        f"mean batch size at 32 single-comment clients: {_f(r['mean_batch_size_at_32'])}",
        f"peak RSS: verbatim {_f(r['server_peak_rss_mb'], '.0f')} MB, naive {_f(r['naive_peak_rss_mb'], '.0f')} MB",
        f"targets (for a quiet 2-core machine): {verdicts}",
        f"medians of {r['repeats']} interleaved repeats, {_f(r['window_s'])} s per setting; backend "
        f"{r['backend']}, model {r['model_version']}. On a shared machine trust the ratios, not the absolutes.",
    ]
    return "\n".join(lines)
