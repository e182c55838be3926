"""`verbatim bench corrections`: the learning benchmark of issue 4, through the real gRPC API.

For each data set (SemEval-2014 restaurants; BANKING77) the benchmark:
  1. copies the given registry's champion into a temp work dir, with a fresh SQLite store,
     and starts `verbatim serve` on it as a subprocess (free ports, reload every second);
  2. measures the default account's seed-test micro-F1 through ClassifyComments;
  3. creates the account with PutTags and measures the keyword-rules baseline: a new account
     is served by its keyword rules alone, so this is ClassifyComments on the 20% split;
  4. per step (k examples per tag, cumulative), replays the new sentences as ADD corrections
     with SubmitCorrections, runs `python -m verbatim.training retrain` as a subprocess (timed), waits
     until GetModelInfo serves the promoted champion, and measures the account's micro-F1 on
     the 20% split through ClassifyComments; and fits logistic regression on frozen base
     MiniLM embeddings of the same sentences (bench.logreg);
  5. measures the default account's seed test again, then stops the server with SIGTERM.
Each data set gets its own work dir, so its curve does not depend on which ran before.
The given registry is only read: its champion and embedding cache are copied.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from verbatim.models.labels import LabelSpace
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.bench.data_dir import BANKING_FILE, DATA_DIR_ENV, DEFAULT_DATA_DIR, SEMEVAL_FILE, data_dir
from verbatim.bench.datasets import (BenchDataset, banking_dataset, cumulative_samples, parse_steps,
                                     restaurants_dataset)
from verbatim.training.corpus import seed_split

if TYPE_CHECKING:  # the heavy modules load when the benchmark runs, not when the CLI builds its parser
    from verbatim.bench.logreg import EncoderFactory

VERBATIM, KEYWORDS, PROBE = "verbatim", "keyword_rules", "probe_base_minilm"
METHODS = (VERBATIM, KEYWORDS, PROBE)
RETRAIN_EXIT_OK, RETRAIN_EXIT_REJECTED = 0, 3
CACHE_DIR = "cache"  # training.retrain.CACHE_DIR, not imported: it would load torch when the CLI starts


@dataclass(frozen=True)
class CorrectionsBenchConfig:
    """One benchmark run. Steps are examples per tag, increasing; None is every example."""

    registry: Path
    semeval: Path | None  # None: skip the data set
    banking: Path | None
    steps: tuple[int | None, ...] = (8, 16, 64, None)
    banking_steps: tuple[int | None, ...] = (8, 16)
    heads_only: bool = False  # passed to every retrain
    retrain_epochs: int | None = None  # passed as --epochs to every retrain; None: the job's default
    seed: int = 13  # the 80/20 split, and the first sampling of examples
    seeds: int = 1  # samplings of the examples per tag (seed, seed + 1, ...): a curve each, then mean ± sd
    max_test: int | None = None  # classify at most this many held-out comments per data set
    start_timeout_s: float = 300.0
    retrain_timeout_s: float = 3600.0
    reload_timeout_s: float = 300.0
    rpc_timeout_s: float = 120.0

    @classmethod
    def quick(cls, registry: Path, semeval: Path | None, banking: Path | None,
              **overrides: object) -> "CorrectionsBenchConfig":
        """Tiny steps and test sets: for tests and smoke runs, still every kind of row."""
        settings: dict[str, object] = dict(steps=(2, 4), banking_steps=(2,), max_test=60, retrain_epochs=1)
        return cls(registry=registry, semeval=semeval, banking=banking,  # type: ignore[arg-type]
                   **(settings | overrides))


@dataclass(frozen=True)
class RetrainOutcome:
    """One retrain job: its decision, the version it trained, and how long it took."""

    decision: str  # promoted, rejected or nothing-new
    challenger: str | None
    champion: str | None  # the champion after the job
    seconds: float  # wall clock of the whole job, process start-up included
    durations_s: dict[str, float] = field(default_factory=dict)  # the job's own, per stage and "total"
    reasons: tuple[str, ...] = ()  # why it decided so, as its report gives them


@dataclass(frozen=True)
class RetrainJob:
    """What the benchmark asks of one retrain: the work registry and store, and its flags."""

    registry: Path
    store_url: str
    heads_only: bool
    epochs: int | None  # --epochs; None: the job's default
    log: Path  # the job's stderr is appended here
    timeout_s: float


RetrainRunner = Callable[[RetrainJob], RetrainOutcome]


def subprocess_retrain(job: RetrainJob) -> RetrainOutcome:
    """`python -m verbatim.training retrain --json` as a subprocess, timed."""
    argv = [sys.executable, "-m", "verbatim.training", "retrain", "--registry", str(job.registry), "--store-url",
            job.store_url, "--json", *(["--heads-only"] if job.heads_only else []),
            *(["--epochs", str(job.epochs)] if job.epochs is not None else [])]
    started = time.perf_counter()
    with open(job.log, "ab") as err:
        try:
            done = subprocess.run(argv, check=False, stdout=subprocess.PIPE, stderr=err,
                                  cwd=job.log.parent,  # the bench's work dir, never the installed package's
                                  timeout=job.timeout_s, env=os.environ | {"HF_HUB_OFFLINE": "1"})
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"retrain ran past {job.timeout_s:.0f}s and was killed:\n{_tail(job.log)}") from None
    seconds = time.perf_counter() - started
    if done.returncode not in (RETRAIN_EXIT_OK, RETRAIN_EXIT_REJECTED):
        raise RuntimeError(f"retrain exited with {done.returncode}:\n{_tail(job.log)}")
    report = json.loads(done.stdout)
    return RetrainOutcome(report["decision"], report.get("challenger"), report.get("champion_after"), seconds,
                          report.get("durations_s", {}), tuple(report.get("reasons", ())))


@dataclass
class _Result:
    rows: list[dict] = field(default_factory=list)
    default_account: list[dict] = field(default_factory=list)


def run(config: CorrectionsBenchConfig, *, retrain: RetrainRunner = subprocess_retrain,
        encoder_factory: EncoderFactory | None = None, progress: bool = True) -> dict:
    """Run the benchmark; returns {"rows", "default_account", "targets", "config"} (see format_table)."""
    from tqdm import tqdm

    datasets: list[tuple[Callable[[], BenchDataset], tuple[int | None, ...]]] = []
    if config.semeval is not None:
        datasets.append((lambda: restaurants_dataset(config.semeval, config.seed), config.steps))  # type: ignore[arg-type]
    if config.banking is not None:
        datasets.append((lambda: banking_dataset(config.banking, config.seed), config.banking_steps))  # type: ignore[arg-type]
    if not datasets:
        raise RuntimeError("nothing to run: both data sets are off")
    if config.seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {config.seeds}")
    result = _Result()
    total = sum(len(steps) for _, steps in datasets) * config.seeds
    with tqdm(total=total, desc="bench corrections", unit="step", disable=not progress, file=sys.stderr) as bar:
        for load, steps in datasets:
            dataset = load()
            for sampling in range(config.seed, config.seed + config.seeds):
                _run_dataset(dataset, steps, sampling, config, retrain, encoder_factory, bar, result)
    summary = summarize(result.rows)
    return {"rows": result.rows, "summary": summary, "default_account": result.default_account,
            "targets": _targets(summary, result.default_account, config.heads_only),
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}}


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Per (data set, k, method), over the samplings: mean and standard deviation of micro-F1,
    and the median retrain time."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["examples_per_tag"], row["method"]), []).append(row)
    summary = []
    for (dataset, k, method), group in groups.items():
        f1 = [r["micro_f1"] for r in group]
        summary.append({"dataset": dataset, "examples_per_tag": k, "method": method, "seeds": len(group),
                        "micro_f1_mean": round(statistics.mean(f1), 4),
                        "micro_f1_sd": round(statistics.stdev(f1), 4) if len(f1) > 1 else 0.0,
                        "examples": round(statistics.mean(r["examples"] for r in group)),
                        "retrain_seconds_median": round(statistics.median(r["retrain_seconds"] for r in group), 1)})
    return summary


def _run_dataset(dataset: BenchDataset, steps: Sequence[int | None], sampling: int, config: CorrectionsBenchConfig,
                 retrain: RetrainRunner, encoder_factory: EncoderFactory | None, bar, result: _Result) -> None:
    from verbatim.models.encoder import load_base_encoder
    from verbatim.bench.client import BenchClient
    from verbatim.bench.logreg import embed_texts, logreg_micro_f1

    test = dataset.test[:config.max_test] if config.max_test else dataset.test
    seed_test = seed_split("test", DEFAULT_TAXONOMY)
    seed_test = seed_test[:config.max_test] if config.max_test else seed_test
    samples = cumulative_samples(dataset.train, steps, sampling)
    tags = dataset.taxonomy.names
    bar.set_postfix_str(f"{dataset.name}: embedding for the logistic regression")
    vectors = embed_texts([r.text for r in (*samples[-1], *test)], encoder_factory or load_base_encoder)
    with _workspace(config.registry, dataset.account) as (workdir, registry, store_url), \
            _server(workdir, registry, store_url, config.start_timeout_s) as target:
        client = BenchClient(target, config.rpc_timeout_s)
        try:
            before, _ = client.micro_f1(DEFAULT_ACCOUNT, seed_test, DEFAULT_TAXONOMY.names)
            client.put_tags(dataset.account, dataset.taxonomy)
            keywords, _ = client.micro_f1(dataset.account, test, tags)  # a new account: rules alone
            corrections = 0
            sent: set[str] = set()
            for k, sample in zip(steps, samples, strict=True):
                label = "all" if k is None else k
                bar.set_postfix_str(f"{dataset.name} k={label}: corrections")
                new = [r for r in sample if r.id not in sent]
                corrections += client.submit(dataset.account, new)
                sent.update(r.id for r in new)
                bar.set_postfix_str(f"{dataset.name} k={label}: retrain")
                outcome = retrain(RetrainJob(registry, store_url, config.heads_only, config.retrain_epochs,
                                             workdir / "retrain.log", config.retrain_timeout_s))
                if outcome.decision == "promoted" and outcome.champion:
                    client.wait_for_version(outcome.champion, config.reload_timeout_s)
                bar.set_postfix_str(f"{dataset.name} k={label}: classify")
                f1, versions = client.micro_f1(dataset.account, test, tags)
                probe, fit_s = logreg_micro_f1(sample, test, vectors, tags)
                common = {"dataset": dataset.name, "seed": sampling, "examples_per_tag": label, "examples": len(sample),
                          "corrections": corrections, "test_comments": len(test)}
                result.rows += [
                    common | {"method": VERBATIM, "micro_f1": f1, "retrain_seconds": round(outcome.seconds, 1),
                              "retrain_durations_s": outcome.durations_s, "retrain_decision": outcome.decision,
                              "retrain_reasons": list(outcome.reasons),
                              "model_version": ",".join(sorted(versions)),
                              "retrain_mode": "heads-only" if config.heads_only else "full",
                              "retrain_epochs": config.retrain_epochs},
                    common | {"method": KEYWORDS, "micro_f1": keywords, "retrain_seconds": 0.0},
                    common | {"method": PROBE, "micro_f1": probe, "retrain_seconds": round(fit_s, 2)}]
                bar.update()
            after, _ = client.micro_f1(DEFAULT_ACCOUNT, seed_test, DEFAULT_TAXONOMY.names)
            result.default_account.append({"dataset": dataset.name, "seed": sampling,
                                           "seed_test_comments": len(seed_test),
                                           "micro_f1_before": before, "micro_f1_after": after,
                                           "drop": round(before - after, 4)})
        finally:
            client.close()


@contextmanager
def _workspace(source: Path, account: str) -> Iterator[tuple[Path, Path, str]]:
    """(work dir, a registry holding a copy of `source`'s champion, a fresh SQLite store URL)."""
    origin = Registry(source)
    champion = origin.champion()
    if champion is None:
        raise RuntimeError(f"no champion in the registry at {source}; run `verbatim train` first or pass --registry")
    labels = LabelSpace.from_list(json.loads((origin.path(champion) / "artifact.json").read_text())["labels"])
    if account in labels.accounts:
        raise RuntimeError(f"the champion {champion} has already learned account {account!r}; the benchmark "
                           "needs a champion that never saw it (e.g. from `verbatim train`)")
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-corrections-") as tmp:
        workdir = Path(tmp)
        registry = Registry(workdir / "registry")
        shutil.copytree(origin.path(champion), registry.versions_dir / champion)
        registry.promote(champion)
        if (origin.root / CACHE_DIR).is_dir():  # the champion's cached embeddings, as the heads-only path keeps them
            shutil.copytree(origin.root / CACHE_DIR, registry.root / CACHE_DIR)
        yield workdir, registry.root, f"sqlite:///{workdir / 'store.db'}"


@contextmanager
def _server(workdir: Path, registry: Path, store_url: str, timeout_s: float) -> Iterator[str]:
    """`verbatim serve` on the work registry and store; stopped with SIGTERM however the block ends."""
    from verbatim.bench.load import ServerProcess, free_port

    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_REGISTRY": str(registry), "VERBATIM_STORE_URL": store_url,
                        "VERBATIM_METRICS_PORT": "0", "VERBATIM_RELOAD_S": "1",  # the default backend, as users get it
                        "VERBATIM_INSECURE_NO_AUTH": "1"}  # its own server, on loopback only
    server = ServerProcess("verbatim", [sys.executable, "-m", "verbatim.cli", "serve"], env, port,
                           workdir / "server.log")
    try:
        server.wait_serving(timeout_s)
        yield server.target
    except BaseException:
        print(f"bench corrections: server log tail:\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _targets(summary: Sequence[dict], default_account: Sequence[dict], heads_only: bool) -> dict[str, bool | None]:
    """Issue 13's done-when checks that this run can answer (on means over samplings); None where it cannot."""
    mean = {(r["dataset"], r["examples_per_tag"], r["method"]): r for r in summary}
    checks: dict[str, bool | None] = {}
    for dataset in dict.fromkeys(r["dataset"] for r in summary):
        steps = [k for (d, k, m) in mean if d == dataset and m == VERBATIM]
        gaps = {k: mean[(dataset, k, VERBATIM)]["micro_f1_mean"] - mean[(dataset, k, PROBE)]["micro_f1_mean"]
                for k in steps}
        if heads_only:
            checks[f"{dataset}_heads_only>=probe_every_k"] = all(gap >= 0 for gap in gaps.values())
        else:
            checks[f"{dataset}_full>=probe+0.03_at_16"] = None if 16 not in gaps else gaps[16] >= 0.03
    full = mean.get(("semeval14_restaurants", "all", VERBATIM))
    seconds = None if full is None else full["retrain_seconds_median"]
    checks["heads_only_retrain_all<=30s"] = None if seconds is None or not heads_only else seconds <= 30
    checks["full_retrain_all<=900s"] = None if seconds is None or heads_only else seconds <= 900
    checks["default_drop<=0.01"] = max(d["drop"] for d in default_account) <= 0.01 if default_account else None
    return checks


def format_table(report: dict) -> str:
    """The learning-curve table: one line per (data set, k), the methods side by side, mean ± sd over samplings."""
    lines = [(f"{'dataset':<23}{'k/tag':>6}{'examples':>9}{'seeds':>6}{'verbatim':>14}{'keywords':>10}"
              f"{'probe':>14}{'retrain s':>11}")]
    summary = report["summary"]
    for i in range(0, len(summary), len(METHODS)):
        by_method = {r["method"]: r for r in summary[i:i + len(METHODS)]}
        ours, probe = by_method[VERBATIM], by_method[PROBE]
        lines.append(f"{ours['dataset']:<23}{ours['examples_per_tag']!s:>6}{ours['examples']:>9}{ours['seeds']:>6}"
                     f"{ours['micro_f1_mean']:>8.3f}±{ours['micro_f1_sd']:.3f}"
                     f"{by_method[KEYWORDS]['micro_f1_mean']:>10.3f}"
                     f"{probe['micro_f1_mean']:>8.3f}±{probe['micro_f1_sd']:.3f}{ours['retrain_seconds_median']:>11.1f}")
    lines.append("")
    modes = {r["retrain_mode"] for r in report["rows"] if r["method"] == VERBATIM}
    lines.append(f"retrain mode: {', '.join(sorted(modes))}")
    for r in report["rows"]:
        if r["method"] == VERBATIM and r["retrain_decision"] != "promoted" and r["retrain_reasons"]:
            lines.append(f"{r['dataset']} k={r['examples_per_tag']} seed {r['seed']}: {r['retrain_decision']}: "
                         f"{r['retrain_reasons'][0]}")
    for d in report["default_account"]:
        lines.append(f"default account, seed test ({d['seed_test_comments']} comments), around {d['dataset']} "
                     f"(seed {d['seed']}): micro-F1 {d['micro_f1_before']:.3f} before, {d['micro_f1_after']:.3f} "
                     f"after (drop {d['drop']:+.3f})")
    checks = "  ".join(f"{k} {'-' if v is None else ('yes' if v else 'NO')}" for k, v in report["targets"].items())
    lines += [f"targets: {checks}",
              ("micro-F1 on each data set's 20% split, mean ± sd over the samplings of examples; verbatim: the "
               "account through ClassifyComments after the retrain; keywords: the new account's rules as served "
               "before any retrain; probe: logistic regression on frozen embeddings of the original MiniLM "
               "(bench.logreg)")]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `verbatim bench corrections` (--registry is the CLI's own)."""
    parser.add_argument("--data-dir", type=Path, help=f"folder of the public data sets (env {DATA_DIR_ENV}, "
                                                      f"default {DEFAULT_DATA_DIR} from the working directory)")
    parser.add_argument("--data", type=Path, help=f"SemEval-2014 restaurants XML (default DATA_DIR/{SEMEVAL_FILE})")
    parser.add_argument("--banking", type=Path, help=f"BANKING77 text,category CSV (default DATA_DIR/{BANKING_FILE})")
    parser.add_argument("--no-semeval", action="store_true", help="skip SemEval")
    parser.add_argument("--no-banking", action="store_true", help="skip BANKING77")
    parser.add_argument("--steps", type=_steps, help="SemEval examples per tag, cumulative (default 8,16,64,all)")
    parser.add_argument("--banking-steps", type=_steps, help="BANKING77 examples per tag (default 8,16)")
    parser.add_argument("--heads-only", action="store_true", help="pass --heads-only to every retrain")
    parser.add_argument("--retrain-epochs", type=int, help="passed as --epochs to every retrain (default: the "
                                                           "job's own; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the 80/20 split and of the first sampling")
    parser.add_argument("--seeds", type=int, default=1, help="samplings of the examples per tag (a whole curve "
                                                            "each); the table gives mean ± sd (default 1)")
    parser.add_argument("--quick", action="store_true", help="tiny steps and test sets, for tests and smoke runs")
    parser.add_argument("--json", action="store_true", help="print the report as JSON: one row per "
                                                            "(dataset, examples per tag, method)")


def config_from_args(args: argparse.Namespace, registry: Path) -> CorrectionsBenchConfig:
    folder = data_dir(args.data_dir)
    overrides: dict[str, object] = {"heads_only": args.heads_only, "seed": args.seed, "seeds": args.seeds}
    semeval = None if args.no_semeval else args.data or folder / SEMEVAL_FILE
    banking = None if args.no_banking else args.banking or folder / BANKING_FILE
    overrides |= {k: v for k, v in (("steps", args.steps), ("banking_steps", args.banking_steps),
                                    ("retrain_epochs", args.retrain_epochs)) if v is not None}
    if args.quick:
        return CorrectionsBenchConfig.quick(registry, semeval, banking, **overrides)
    return CorrectionsBenchConfig(registry=registry, semeval=semeval, banking=banking, **overrides)  # type: ignore[arg-type]


def _steps(text: str) -> tuple[int | None, ...]:
    try:
        return parse_steps(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
