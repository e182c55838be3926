"""The `verbatim` command: train, evaluate, serve, classify."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_REGISTRY = "var/registry"


def _registry_path(args: argparse.Namespace) -> Path:
    return Path(args.registry or os.environ.get("VERBATIM_REGISTRY") or DEFAULT_REGISTRY)


def cmd_train(args: argparse.Namespace) -> int:
    from models.registry import Registry
    from training.config import TrainingConfig
    from training.default_model import train_default_model

    config = TrainingConfig.from_overrides(epochs=args.epochs, seed=args.seed)
    registry = Registry(_registry_path(args))
    version = train_default_model(registry, config)
    report = json.loads((registry.path(version) / "artifact.json").read_text())["evaluation"]["seed_test"]
    print(f"trained and promoted {version} into {registry.root}")
    print(f"seed test: theme micro-F1 {report['themes']['micro_f1']:.3f} "
          f"(keyword rules {report['keyword_baseline']['micro_f1']:.3f}), "
          f"sentiment accuracy {report['sentiment']['accuracy']:.3f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from models.predictor import Predictor, UnknownAccountError
    from models.registry import Registry, RegistryError
    from training.corpus import CorpusError, load_records
    from training.evaluate import evaluate

    registry = Registry(_registry_path(args))
    try:
        path = registry.path(args.model) if args.model else registry.champion_path()
    except RegistryError as exc:
        return _fail(str(exc))
    if path is None:
        return _fail(f"no champion in {registry.root}; run `verbatim train` first or pass --model VERSION")
    predictor = Predictor.load(path)
    try:
        taxonomy = predictor.taxonomy(args.account)
        records = load_records(Path(args.data), taxonomy, account=args.account)
    except UnknownAccountError:
        return _fail(f"--account {args.account!r} is not in model {predictor.version}; "
                     f"it knows {predictor.accounts}")
    except (CorpusError, OSError) as exc:
        return _fail(str(exc))
    print(json.dumps(evaluate(predictor, records, args.account), indent=2))
    return 0


def _fail(message: str) -> int:
    print(f"verbatim: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="verbatim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train the default model from the seed corpus and promote it")
    train.add_argument("--registry", help=f"registry directory (env VERBATIM_REGISTRY, default {DEFAULT_REGISTRY})")
    train.add_argument("--epochs", type=int, help="override the number of epochs")
    train.add_argument("--seed", type=int, help="override the random seed")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="print a JSON evaluation report for a labelled JSONL file")
    evaluate.add_argument("--data", required=True, help="JSONL in the seed record format")
    evaluate.add_argument("--model", help="model version (default: the champion)")
    evaluate.add_argument("--account", default="default", help="account whose tags to evaluate")
    evaluate.add_argument("--registry", help=f"registry directory (env VERBATIM_REGISTRY, default {DEFAULT_REGISTRY})")
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
