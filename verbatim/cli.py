"""The `verbatim` command: train, evaluate, retrain and serve models; classify, correct and manage
tags through a running server; inspect and swap registry versions."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from verbatim import cli_accounts, cli_classify, cli_correct, cli_keys, cli_registry, cli_report, cli_tags
from verbatim.cli_common import add_debug_argument, describe, user_errors
from verbatim.models.backend_names import BACKENDS, DEFAULT_BACKEND
from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.models.registry import DEFAULT_REGISTRY, REGISTRY_ENV, registry_path
from verbatim.training.corpus import SPLITS


def cmd_train(args: argparse.Namespace) -> int:
    from verbatim.training.__main__ import run_train

    return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from verbatim.models.artifact import Artifact
    from verbatim.models.backend import TorchBackend
    from verbatim.models.device import DeviceError, resolve_device
    from verbatim.models.predictor import Predictor, UnknownAccountError
    from verbatim.models.registry import Registry, RegistryError
    from verbatim.models.industries import template_account
    from verbatim.training.corpus import CorpusError, industry_split, load_records
    from verbatim.training.evaluate import evaluate

    try:
        device = resolve_device(args.device)
    except DeviceError as exc:
        return _fail(f"--device: {exc}")
    registry = Registry(registry_path(args.registry))
    try:
        path = registry.path(args.model) if args.model else registry.champion_path()
    except RegistryError as exc:
        return _fail(str(exc))
    if path is None:
        return _fail(f"no champion in {registry.root}; run `verbatim train` first or pass --model VERSION")
    artifact = Artifact.load(path)  # saved on the CPU, whichever device trained it
    predictor = Predictor(artifact, TorchBackend.on_device(artifact.net, device))
    account = template_account(args.industry) if args.industry else args.account
    try:
        taxonomy = predictor.taxonomy(account)
        records = industry_split(args.industry, args.split) if args.industry else \
            load_records(Path(args.data), taxonomy, account=account)
    except UnknownAccountError:
        flag = f"--industry {args.industry}" if args.industry else f"--account {args.account!r}"
        return _fail(f"{flag}: account {account!r} is not in model {predictor.version}; "
                     f"it knows {predictor.accounts}")
    except (CorpusError, OSError) as exc:
        return _fail(str(exc))
    print(json.dumps(evaluate(predictor, records, account), indent=2))
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from verbatim.training.__main__ import run_retrain

    return run_retrain(args)


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio
    import functools
    import logging

    from verbatim.models.device import DeviceError, resolve_device
    from verbatim.models.loading import load_predictor
    from verbatim.models.registry import Registry, RegistryError
    from verbatim.service.config import ConfigError, ServiceConfig
    from verbatim.service.auth import load_keyring
    from verbatim.service.server import run
    from verbatim.service.tls import server_credentials

    try:
        config = ServiceConfig.from_sources({name: getattr(args, name) for name in _service_settings()})
        # Keys and certificates are read now, so a missing file fails in one line before any training.
        load_keyring(config)
        server_credentials(config)
    except ConfigError as exc:
        return _fail(str(exc))
    if config.backend == "torch":
        try:  # a GPU asked for and missing fails now, in one line, not at the first model load
            resolve_device(config.device)
        except DeviceError as exc:
            return _fail(f"VERBATIM_DEVICE (--device): {exc}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    registry = Registry(config.registry)
    try:
        champion = registry.champion_path()
    except RegistryError as exc:
        return _fail(f"the registry's champion is broken: {exc}")
    if champion is None:
        from verbatim.training.default_model import train_default_model
        from verbatim.training.first_champion import ensure_champion

        try:  # one replica trains; the others sharing the registry wait for its champion
            ensure_champion(registry, train_default_model)
        except KeyboardInterrupt:
            return _fail("training interrupted; nothing was promoted")
    # The champion, and every later one the server reloads, runs on the configured backend.
    return asyncio.run(run(config, functools.partial(load_predictor, backend=config.backend, threads=config.threads,
                                                     device=config.device)))


def cmd_bench_serve(args: argparse.Namespace) -> int:
    from verbatim.service.config import ConfigError, ServiceConfig
    from verbatim.bench.report import format_table
    from verbatim.bench.serve import BenchConfig, run

    known = set(_service_settings())
    server_env: dict[str, str] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in known:
            return _fail(f"--set {item!r}: expected SETTING=VALUE with SETTING one of {sorted(known)}")
        server_env["VERBATIM_" + key.strip().upper()] = value
    if args.backend:
        server_env["VERBATIM_BACKEND"] = args.backend
    try:  # the server's own parser, so a bad value fails here, naming the key, not in a subprocess
        service = ServiceConfig.from_sources({}, env=os.environ | server_env)
    except ConfigError as exc:
        return _fail(str(exc))
    registry = registry_path(args.registry)
    make = BenchConfig.quick if args.quick else BenchConfig
    overrides = {k: v for k, v in (("repeats", args.repeats), ("seconds", args.seconds)) if v is not None}
    config = make(registry=registry, backend=service.backend, threads=service.threads,  # type: ignore[operator]
                  device=service.device if service.backend == "torch" else "cpu",
                  batch_comments=service.max_batch_comments, naive_workers=args.naive_workers,
                  server_env=server_env, **overrides)
    try:
        report = run(config)
    except RuntimeError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_table(report))
    return 0


def cmd_bench_corrections(args: argparse.Namespace) -> int:
    from verbatim.bench.corrections import config_from_args, format_table, run
    from verbatim.bench.logreg import require_scikit_learn

    try:
        require_scikit_learn()  # before minutes of retraining, not after
        report = run(config_from_args(args, registry_path(args.registry)))
    except (RuntimeError, ValueError) as exc:  # ValueError: a data file that cannot be used (CorpusError)
        return _fail(str(exc))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


def cmd_bench_summaries(args: argparse.Namespace) -> int:
    from verbatim.bench.summaries import format_table, run

    try:
        report = run(registry_path(args.registry), responses=args.responses, repeats=args.repeats, seed=args.seed)
    except RuntimeError as exc:
        return _fail(str(exc))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


def cmd_bench_sentiment(args: argparse.Namespace) -> int:
    from verbatim.bench.data_dir import SEMEVAL_FILE, data_dir
    from verbatim.bench.sentiment import format_table, run

    try:
        report = run(registry_path(args.registry), data_dir(args.data_dir) / SEMEVAL_FILE, device=args.device)
    except (RuntimeError, ValueError) as exc:  # ValueError: an unusable data file (CorpusError) or device
        return _fail(str(exc))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


def cmd_bench_aspects(args: argparse.Namespace) -> int:
    from verbatim.bench.aspects import format_table, run
    from verbatim.bench.data_dir import SEMEVAL_FILE, data_dir
    from verbatim.training.config import TrainingConfig

    try:
        config = TrainingConfig.from_overrides(epochs=args.epochs, tag_sentiment_weight=args.tag_sentiment_weight)
        report = run(data_dir(args.data_dir) / SEMEVAL_FILE, config)
    except (RuntimeError, ValueError) as exc:
        return _fail(str(exc).replace("TrainingConfig.", "--"))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


_SWITCHES = frozenset({"insecure_no_auth"})  # serve settings given as a bare --flag


def cmd_bench_soak(args: argparse.Namespace) -> int:
    from verbatim.bench.soak import SoakConfig, format_table, run

    try:
        report = run(SoakConfig(registry_path(args.registry), minutes=args.minutes, fraction=args.fraction,
                                seed=args.seed))
    except (RuntimeError, ValueError) as exc:
        return _fail(str(exc))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


def _service_settings() -> list[str]:
    from verbatim.service.config import ServiceConfig

    return [f.name for f in dataclasses.fields(ServiceConfig)]


def _fail(message: str) -> int:
    print(f"verbatim: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="verbatim", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error, not just one line")
    sub = parser.add_subparsers(dest="command", required=True)

    from verbatim.training.__main__ import add_device_argument, add_retrain_arguments, add_train_arguments

    train = sub.add_parser("train", help="train the default model from the seed corpus and promote it "
                                         "(python -m verbatim.training train; under torchrun on N processes)")
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="print a JSON evaluation report for a labelled JSONL file, "
                                                "or for an industry's split of the built-in corpora")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="JSONL in the seed record format")
    source.add_argument("--industry", choices=sorted(INDUSTRY_TAXONOMIES),
                        help="an industry's own corpus split (--split), on its default account's heads")
    evaluate.add_argument("--split", choices=SPLITS, default="test", help="with --industry (default test)")
    evaluate.add_argument("--model", help="model version (default: the champion)")
    evaluate.add_argument("--account", default="default", help="with --data: the account whose tags to evaluate")
    evaluate.add_argument("--registry", help=f"registry directory (env {REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    add_device_argument(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    retrain = sub.add_parser("retrain", help="learn from the store's corrections: train a challenger and promote it "
                                             "if it is not worse than the champion (python -m verbatim.training retrain)")
    add_retrain_arguments(retrain)
    retrain.set_defaults(func=cmd_retrain)

    from verbatim.service.config import ServiceConfig

    serve = sub.add_parser("serve", help="serve the registry's champion over gRPC (trains one first if none)")
    for setting in dataclasses.fields(ServiceConfig):
        flag = "--" + setting.name.replace("_", "-")
        if setting.name in _SWITCHES:  # a bare flag; its variable takes true/false as usual
            serve.add_argument(flag, dest=setting.name, action="store_const", const="true",
                               help=f"env VERBATIM_{setting.name.upper()}=1, default off")
            continue
        # Strings on purpose: ServiceConfig parses and checks flags and env vars alike.
        serve.add_argument(flag, dest=setting.name, metavar="VALUE",
                           help=f"env VERBATIM_{setting.name.upper()}, default {setting.default}")
    serve.set_defaults(func=cmd_serve)

    # Through a running server, on the light client (clients/python); and the registry on disk.
    for module in (cli_classify, cli_correct, cli_tags, cli_accounts, cli_registry, cli_report, cli_keys):
        module.add_parser(sub)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bench", required=True)
    bench_serve = bench.add_parser("serve", help="serving benchmark: in-process ceiling vs verbatim serve vs a naive "
                                                 "server, over loopback (minutes; --quick for seconds)")
    bench_serve.add_argument("--registry",
                             help=f"registry directory, only read (env {REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    bench_serve.add_argument("--backend", choices=BACKENDS,
                             help=f"inference backend (default VERBATIM_BACKEND, else {DEFAULT_BACKEND})")
    bench_serve.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                             help="a server setting for verbatim serve, e.g. max_delay_ms=2 (repeatable)")
    bench_serve.add_argument("--repeats", type=int, help="interleaved repeats per setting (default 3)")
    bench_serve.add_argument("--seconds", type=float, help="measured seconds per setting (default 3)")
    bench_serve.add_argument("--naive-workers", type=int, default=1, help="worker threads of the naive server")
    bench_serve.add_argument("--quick", action="store_true", help="a short run with few settings, for tests")
    bench_serve.add_argument("--json", action="store_true", help="print the report as one JSON object")
    bench_serve.set_defaults(func=cmd_bench_serve)
    bench_corrections = bench.add_parser("corrections", help="learning benchmark: replay labelled data as corrections "
                                                             "through gRPC, retrain, measure (about 40 min; --quick)")
    bench_corrections.add_argument("--registry", help="registry whose champion to start from, only read (env "
                                                      f"{REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    from verbatim.bench.corrections import add_arguments as add_bench_corrections_arguments

    add_bench_corrections_arguments(bench_corrections)
    bench_corrections.set_defaults(func=cmd_bench_corrections)
    bench_summaries = bench.add_parser("summaries", help="the Tags tab of N responses with given tags: in process "
                                                         "vs SummarizeResponses over loopback (seconds)")
    bench_summaries.add_argument("--registry", help="registry whose champion the server loads, only read (env "
                                                    f"{REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    bench_summaries.add_argument("--responses", type=int, default=100_000, help="responses (default 100000)")
    bench_summaries.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    bench_summaries.add_argument("--seed", type=int, default=0, help="seed of the synthetic responses")
    bench_summaries.add_argument("--json", action="store_true", help="print the report as one JSON object")
    bench_summaries.set_defaults(func=cmd_bench_summaries)
    bench_soak = bench.add_parser("soak", help="hold 70%% of the measured peak with mixed RPCs for N minutes: "
                                               "error rate, p99 per minute, RSS drift, corrections kept")
    bench_soak.add_argument("--registry", help="registry whose champion the server loads, only read (env "
                                               f"{REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    bench_soak.add_argument("--minutes", type=float, default=10.0, help="how long to hold the load (default 10)")
    bench_soak.add_argument("--fraction", type=float, default=0.7, help="of the measured peak (default 0.7)")
    bench_soak.add_argument("--seed", type=int, default=0, help="seed of the arrivals")
    bench_soak.add_argument("--json", action="store_true", help="print the report as one JSON object")
    bench_soak.set_defaults(func=cmd_bench_soak)
    bench_sentiment = bench.add_parser("sentiment", help="the champion's comment-level sentiment vs VADER on "
                                                         "SemEval-2014 restaurants and each industry's test split")
    bench_sentiment.add_argument("--registry", help="registry whose champion to measure, only read (env "
                                                    f"{REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    bench_sentiment.add_argument("--data-dir", type=Path, help="folder of the public data sets (env "
                                                               "VERBATIM_DATA_DIR, default ../shared/data)")
    add_device_argument(bench_sentiment)
    bench_sentiment.add_argument("--json", action="store_true", help="print the report as one JSON object")
    bench_sentiment.set_defaults(func=cmd_bench_sentiment)
    bench_aspects = bench.add_parser("aspects", help="sentiment per tag on SemEval-2014 restaurants: train the "
                                                     "account on the 80 %%, measure category and polarity on the 20 %%")
    bench_aspects.add_argument("--data-dir", type=Path, help="folder of the public data sets (env "
                                                             "VERBATIM_DATA_DIR, default ../shared/data)")
    bench_aspects.add_argument("--epochs", type=int, help="override the training epochs")
    bench_aspects.add_argument("--tag-sentiment-weight", type=float,
                               help="weight of the per-tag sentiment loss (0 trains without it)")
    bench_aspects.add_argument("--json", action="store_true", help="print the report as one JSON object")
    bench_aspects.set_defaults(func=cmd_bench_aspects)
    for command in sub.choices.values():
        add_debug_argument(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a user's error is one line on stderr and exit code 2 (a traceback with --debug)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except user_errors() as exc:
        if args.debug:
            raise
        return _fail(describe(exc))


if __name__ == "__main__":
    sys.exit(main())
