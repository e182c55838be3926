"""Backend parity: the `onnx` backend against `torch` on the same labelled comments.

Reports quality under each backend (theme micro-F1, sentiment accuracy) and their difference,
how many comments change their tag set or sentiment label, how far the probabilities move,
how much a comment's result depends on the batch it shares, and the throughput of each
backend measured side by side in one process.

    python -m verbatim.bench.parity --model-dir var/registry/versions/<version> [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from tqdm.auto import tqdm

from verbatim.models.artifact import Artifact
from verbatim.models.backend_names import BACKENDS
from verbatim.models.loading import make_backend
from verbatim.models.predictor import Predictor, Scores
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.training.corpus import SPLITS, Record, seed_split
from verbatim.training.evaluate import sentiment_report, theme_report

# DESIGN §3: onnx must agree with torch within this, on theme micro-F1 and sentiment accuracy.
TOLERANCE = 0.01
NOISY_SPREAD = 0.25


def _decide(predictor: Predictor, records: Sequence[Record], scores: Scores) -> tuple[list[set[str]], list[str]]:
    predictions = [predictor.decide(r.text, r.account, *scores.row(i))
                   for i, r in enumerate(records)]
    return [p.tag_names for p in predictions], [p.sentiment.label for p in predictions]


def _batches(predictor: Predictor, records: Sequence[Record], batch_size: int) -> list[list[list[int]]]:
    encoded = predictor.encode([r.text for r in records])
    order = sorted(range(len(records)), key=lambda i: len(encoded[i]))
    return [[encoded[i] for i in order[start:start + batch_size]] for start in range(0, len(order), batch_size)]


def _throughput(predictors: dict[str, Predictor], batches: list[list[list[int]]], repeats: int,
                progress: bool) -> dict[str, Any]:
    comments = sum(len(batch) for batch in batches)
    for predictor in predictors.values():  # warm-up: first calls allocate buffers and pick kernels
        predictor.infer(batches[-1])
    rates: dict[str, list[float]] = {name: [] for name in predictors}
    names = list(predictors)
    for repeat in tqdm(range(repeats), desc="throughput", unit="round", disable=not progress):
        # Alternate which backend goes first, so drift in machine load favours neither.
        for name in names if repeat % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            for batch in batches:
                predictors[name].infer(batch)
            rates[name].append(comments / (time.perf_counter() - started))
    medians = {name: round(statistics.median(values), 1) for name, values in rates.items()}
    return {
        "comments_per_s": medians,
        "onnx_over_torch": round(medians["onnx"] / medians["torch"], 2),
        # (max - min) / median: large on a machine busy with other work, where torch's OpenMP
        # threads stall far more than onnxruntime's and the ratio overstates onnx.
        "spread": {name: round((max(values) - min(values)) / statistics.median(values), 2)
                   for name, values in rates.items()},
        "runs": {name: [round(v, 1) for v in values] for name, values in rates.items()},
        "repeats": repeats,
        "comments_per_run": comments,
    }


def _batch_invariance(predictor: Predictor, records: Sequence[Record], batched: Scores) -> dict[str, Any]:
    # Under the micro-batcher a comment shares its forward pass with whatever else is queued;
    # a backend whose results depend on that gives the same comment different tags over time.
    alone = predictor.scores([r.text for r in records], batch_size=1)
    alone_tags, batched_tags = _decide(predictor, records, alone)[0], _decide(predictor, records, batched)[0]
    changed = sum(a != b for a, b in zip(alone_tags, batched_tags))
    diff = max(float(np.abs(alone.themes - batched.themes).max()),
               float(np.abs(alone.sentiment - batched.sentiment).max()))
    return {"max_abs_prob_diff": round(diff, 5), "tag_set_changes": round(changed / len(records), 4)}


def _compare(torch_value: float, onnx_value: float) -> dict[str, Any]:
    diff = round(onnx_value - torch_value, 4)
    return {"torch": torch_value, "onnx": onnx_value, "diff": diff, "within_tolerance": abs(diff) <= TOLERANCE}


def backend_parity(artifact_dir: Path, records: Sequence[Record], repeats: int = 5, batch_size: int = 32,
                   threads: int = 0, progress: bool = False) -> dict[str, Any]:
    """Run `torch` and `onnx` over labelled `records` (each decided for its own account) and
    compare quality, per-comment decisions, probabilities and side-by-side throughput."""
    if not records:
        raise ValueError("backend parity needs at least one record")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    artifact = Artifact.load(artifact_dir)
    predictors = {name: Predictor(artifact, make_backend(name, artifact_dir, artifact, threads))
                  for name in BACKENDS}
    scores = {name: p.scores([r.text for r in records], batch_size) for name, p in predictors.items()}
    decided = {name: _decide(predictors[name], records, scores[name]) for name in BACKENDS}

    # Pooled over accounts: each comment's gold and predicted tags come from its own account.
    accounts = {r.account for r in records}
    tags = sorted({tag for account in accounts for tag in predictors["torch"].taxonomy(account).names})
    gold_tags = [set(r.tags) for r in records]
    # sentiment_report skips comments without a gold sentiment (None).
    gold_sentiment = cast(list[str], [r.sentiment for r in records])
    themes = {name: theme_report(gold_tags, decided[name][0], tags)["micro_f1"] for name in BACKENDS}
    sentiment = {name: sentiment_report(gold_sentiment, decided[name][1])["accuracy"] for name in BACKENDS}

    (torch_tags, torch_labels), (onnx_tags, onnx_labels) = decided["torch"], decided["onnx"]
    tag_changes = [{"id": r.id, "account": r.account, "torch": sorted(t), "onnx": sorted(o)}
                   for r, t, o in zip(records, torch_tags, onnx_tags) if t != o]
    sentiment_changes = [{"id": r.id, "account": r.account, "torch": t, "onnx": o}
                         for r, t, o in zip(records, torch_labels, onnx_labels) if t != o]
    theme_diff = np.abs(scores["onnx"].themes - scores["torch"].themes)
    sentiment_diff = np.abs(scores["onnx"].sentiment - scores["torch"].sentiment)

    return {
        "model_version": artifact.meta.version,
        "comments": len(records),
        "tolerance": TOLERANCE,
        "theme_micro_f1": _compare(themes["torch"], themes["onnx"]),
        "sentiment_accuracy": _compare(sentiment["torch"], sentiment["onnx"]),
        "tag_set_disagreement": round(len(tag_changes) / len(records), 4),
        "sentiment_disagreement": round(len(sentiment_changes) / len(records), 4),
        "tag_disagreements": tag_changes,
        "sentiment_disagreements": sentiment_changes,
        "probability_abs_diff": {
            "themes": {"max": round(float(theme_diff.max()), 5), "mean": round(float(theme_diff.mean()), 6)},
            "sentiment": {"max": round(float(sentiment_diff.max()), 5), "mean": round(float(sentiment_diff.mean()), 6)},
        },
        "batch_vs_alone": {name: _batch_invariance(predictors[name], records, scores[name]) for name in BACKENDS},
        "throughput": _throughput(predictors, _batches(predictors["torch"], records, batch_size), repeats, progress),
        "environment": {
            "batch_size": batch_size, "threads": threads or os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(), "torch": torch.__version__, "onnxruntime": _ort_version(),
            "onnx_model": str(getattr(predictors["onnx"].backend, "model_path", "")),
        },
    }


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def _artifact_dir(path: Path) -> Path:
    # A registry root is accepted too, meaning its champion.
    if (path / "champion").is_file():
        champion = Registry(path).champion_path()
        if champion is not None:
            return champion
    return path


def _summary(report: dict[str, Any]) -> str:
    f1, acc, probs, speed = (report["theme_micro_f1"], report["sentiment_accuracy"],
                             report["probability_abs_diff"], report["throughput"])
    verdict = "within" if f1["within_tolerance"] and acc["within_tolerance"] else "OUTSIDE"
    lines = [
        f"model {report['model_version']}, {report['comments']} comments",
        f"theme micro-F1       torch {f1['torch']:.4f}  onnx {f1['onnx']:.4f}  diff {f1['diff']:+.4f}",
        f"sentiment accuracy   torch {acc['torch']:.4f}  onnx {acc['onnx']:.4f}  diff {acc['diff']:+.4f}",
        f"parity: {verdict} the ±{report['tolerance']} tolerance",
        (f"tag set differs      {report['tag_set_disagreement']:.2%} of comments "
         f"({len(report['tag_disagreements'])})"),
        (f"sentiment differs    {report['sentiment_disagreement']:.2%} of comments "
         f"({len(report['sentiment_disagreements'])})"),
        f"|Δp| themes          max {probs['themes']['max']:.4f}  mean {probs['themes']['mean']:.5f}",
        f"|Δp| sentiment       max {probs['sentiment']['max']:.4f}  mean {probs['sentiment']['mean']:.5f}",
        *(f"{name:5s} batched vs alone: max |Δp| {b['max_abs_prob_diff']:.4f}, "
          f"tag set changes {b['tag_set_changes']:.2%}" for name, b in report["batch_vs_alone"].items()),
        (f"throughput (median of {speed['repeats']}, batches of {report['environment']['batch_size']}, "
         f"threads {report['environment']['threads']}): torch {speed['comments_per_s']['torch']:.1f}/s, "
         f"onnx {speed['comments_per_s']['onnx']:.1f}/s, onnx/torch {speed['onnx_over_torch']:.2f}x"),
    ]
    if max(speed["spread"].values()) > NOISY_SPREAD:
        lines.append(f"  warning: timings vary by up to {max(speed['spread'].values()):.0%} between rounds; "
                     "the machine is busy, so the ratio is unreliable (try --threads 1 or a quiet machine)")
    lines += [f"  {c['id']}: torch {c['torch']} -> onnx {c['onnx']}" for c in report["tag_disagreements"][:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verbatim.bench.parity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True,
                        help="an artifact directory, or a registry root (meaning its champion)")
    parser.add_argument("--split", default="test", choices=SPLITS, help="seed corpus split (default test)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per backend (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="comments per forward pass (default 32)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads, 0 = all cores (default)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    records = seed_split(args.split, DEFAULT_TAXONOMY)
    report = backend_parity(_artifact_dir(args.model_dir), records, repeats=args.repeats,
                            batch_size=args.batch_size, threads=args.threads, progress=sys.stderr.isatty())
    print(json.dumps(report, indent=2) if args.json else _summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
