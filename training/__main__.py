"""`python -m verbatim.training retrain`: the retraining job of DESIGN §5, for cron or by hand.

Exit codes: 0 promoted or nothing new, 3 challenger rejected, 2 usage or configuration
error (the message names the flag), 4 another retrain holds the lock, 1 the run failed
(its report, written anyway, says why).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from verbatim.models.registry import DEFAULT_REGISTRY, REGISTRY_ENV, registry_path
from verbatim.store.engine import DEFAULT_STORE_URL, STORE_URL_ENV

EXIT_USAGE, EXIT_REJECTED, EXIT_BUSY = 2, 3, 4
# Config errors name the dataclass field; the user knows the flag.
_FLAGS = {"RetrainConfig.margin": "--margin", "RetrainConfig.min_gate_comments": "--min-gate-comments",
          "TrainingConfig.epochs": "--epochs", "HeadsConfig.epochs": "--epochs"}


def add_retrain_arguments(parser: argparse.ArgumentParser) -> None:
    """The retrain flags, shared by `python -m verbatim.training retrain` and `verbatim retrain`."""
    parser.add_argument("--heads-only", action="store_true",
                        help="retrain only the heads on the champion's frozen embeddings (seconds)")
    parser.add_argument("--margin", type=float,
                        help="promote unless the challenger is worse than the champion by more than this "
                             "(micro-F1 per account, sentiment accuracy; default 0.01) and the drop is past "
                             "the 95 %% bound of a paired bootstrap over the held-out comments")
    parser.add_argument("--min-gate-comments", type=int,
                        help="an account's check blocks promotion only with at least this many held-out "
                             "comments (default 30), and an account is split into train/dev/held-out only "
                             "once it has that many to hold out; a smaller one trains on all its comments")
    parser.add_argument("--force", action="store_true", help="train even if nothing changed since the champion")
    parser.add_argument("--registry", help=f"registry directory (env {REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    parser.add_argument("--store-url", help=f"SQLAlchemy URL of the store (env {STORE_URL_ENV}, "
                                            f"default {DEFAULT_STORE_URL})")
    parser.add_argument("--epochs", type=int, help="epochs of the full path, or of the heads with --heads-only")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON on stdout")


def run_retrain(args: argparse.Namespace) -> int:
    """Run one retrain from parsed flags and return the process exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from verbatim.models.registry import Registry
    from verbatim.store import Store, StoreError, store_url_from_env
    from verbatim.training.lock import LockBusy
    from verbatim.training.retrain import RETRAIN_TRAINING, RetrainConfig, RetrainError, retrain

    try:
        config = RetrainConfig(heads_only=args.heads_only, force=args.force)
        if args.margin is not None:
            config = dataclasses.replace(config, margin=args.margin)
        if args.min_gate_comments is not None:
            config = dataclasses.replace(config, min_gate_comments=args.min_gate_comments,
                                         holdout=dataclasses.replace(config.holdout,
                                                                     min_heldout=args.min_gate_comments))
        if args.epochs is not None:
            if args.heads_only:
                config = dataclasses.replace(config, heads=dataclasses.replace(config.heads, epochs=args.epochs))
            else:
                config = dataclasses.replace(config, training=dataclasses.replace(RETRAIN_TRAINING, epochs=args.epochs))
    except ValueError as exc:
        message = str(exc)
        for field, flag in _FLAGS.items():
            message = message.replace(field, flag)
        return _fail(message)

    url = args.store_url or store_url_from_env()
    try:
        store = Store(url)
    except StoreError as exc:
        return _fail(f"--store-url: {exc}")
    except (SQLAlchemyError, ImportError, OSError) as exc:  # unreachable server, bad credentials, no driver
        return _fail(f"--store-url: cannot open the store at {url!r}: {exc}")
    registry = Registry(registry_path(args.registry))
    try:
        with store:
            report = retrain(store, registry, config)
    except LockBusy as exc:
        print(f"retrain: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except RetrainError as exc:
        return _fail(str(exc))

    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(f"retrain: {report.decision.value}" + (f" {report.challenger}" if report.challenger else ""))
        for reason in report.reasons:
            print(f"  {reason}")
        if report.paths:
            print(f"  report: {report.paths['markdown']}")
    return report.exit_code


def _fail(message: str) -> int:
    print(f"retrain: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verbatim.training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    retrain = sub.add_parser("retrain", help="train a challenger from the store's corrections; promote it if "
                                             "it is not worse than the champion")
    add_retrain_arguments(retrain)
    return run_retrain(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
