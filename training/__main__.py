"""`python -m verbatim.training retrain`: the retraining job of DESIGN §5, for cron or by hand;
`python -m verbatim.training train`: the default model from the seed corpus.

Both run on `--device` (auto: CUDA when there is a GPU), and under torchrun on several
processes: `torchrun --nproc_per_node=N -m verbatim.training retrain` (training.distributed).

Exit codes: 0 promoted or nothing new, 3 challenger rejected, 2 usage or configuration
error (the message names the flag), 4 another retrain holds the lock, 1 the run failed
(its report, written anyway, says why). Under torchrun, 3 and 4 are answers printed by rank 0
and exit 0: torchrun turns any other code into its own 1, the same as a crash, and a
Kubernetes Job would retry the run for nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from verbatim.models.device import DEFAULT_DEVICE, DEVICES
from verbatim.models.registry import DEFAULT_REGISTRY, REGISTRY_ENV, registry_path
from verbatim.store.engine import DEFAULT_STORE_URL, STORE_URL_ENV

if TYPE_CHECKING:
    from verbatim.training.distributed import Runtime
    from verbatim.training.retrain import RetrainConfig

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
    parser.add_argument("--original-encoder", choices=["auto", "never"],
                        help="with --heads-only: read an account's tags from the original all-MiniLM-L6-v2 "
                             "when cross-validation on its own corrections says it beats the champion's "
                             "encoder (auto, the default; costs a second forward pass for that account's "
                             "comments), or never")
    parser.add_argument("--keep-heldout", action="store_true",
                        help="promote the heads the gate judged, fitted without the held-out corrections (by "
                             "default, once the gate passes, the quick path's heads and a full retrain's "
                             "single-label tags are fitted again with them)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON on stdout")
    add_device_argument(parser)


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """--device, for every command that runs the model."""
    parser.add_argument("--device", default=DEFAULT_DEVICE,
                        help=f"{DEVICES} (default {DEFAULT_DEVICE}: CUDA when torch sees a GPU, else the CPU); "
                             "training on CUDA uses mixed precision (bf16, else fp16)")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `python -m verbatim.training train` and `verbatim train`."""
    parser.add_argument("--registry", help=f"registry directory (env {REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--seed", type=int, help="override the random seed")
    add_device_argument(parser)


def start_runtime(device: str, command: str) -> Runtime | int:
    """The device and, under torchrun, the process group; an exit code after a one-line error."""
    from verbatim.models.device import DeviceError
    from verbatim.training.distributed import DistributedError, Runtime  # noqa: F811 (TYPE_CHECKING above)

    try:
        return Runtime.start(device)
    except (DeviceError, DistributedError) as exc:
        print(f"{command}: error: --device: {exc}" if isinstance(exc, DeviceError) else f"{command}: error: {exc}",
              file=sys.stderr)
        return EXIT_USAGE


def run_train(args: argparse.Namespace) -> int:
    """Train the default model from parsed flags (on every torchrun rank); rank 0 promotes it."""
    from verbatim.models.registry import Registry
    from verbatim.training.config import TrainingConfig
    from verbatim.training.default_model import train_default_model
    from verbatim.training.distributed import DistributedError

    try:
        config = TrainingConfig.from_overrides(epochs=args.epochs, seed=args.seed)
    except ValueError as exc:
        print(f"train: error: {str(exc).replace('TrainingConfig.', '--')}", file=sys.stderr)
        return EXIT_USAGE
    runtime = start_runtime(args.device, "train")
    if isinstance(runtime, int):
        return runtime
    try:
        registry = Registry(registry_path(args.registry))
        version = train_default_model(registry, config, progress=runtime.is_main, runtime=runtime)
    except DistributedError as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        runtime.close()
    if version is None:  # a rank other than 0: it helped with the epochs
        return 0
    report = json.loads((registry.path(version) / "artifact.json").read_text())["evaluation"]["seed_test"]
    where = f" on {runtime.device}" + (f" x {runtime.world_size} processes" if runtime.distributed else "")
    print(f"trained{where} and promoted {version} into {registry.root}")
    print(f"seed test: theme micro-F1 {report['themes']['micro_f1']:.3f} "
          f"(keyword rules {report['keyword_baseline']['micro_f1']:.3f}), "
          f"sentiment accuracy {report['sentiment']['accuracy']:.3f}")
    return 0


def run_retrain(args: argparse.Namespace) -> int:
    """Run one retrain from parsed flags and return the process exit code."""
    from verbatim.training.retrain import RETRAIN_TRAINING, RetrainConfig
    from verbatim.training.retrain_ranks import follow

    try:
        config = RetrainConfig(heads_only=args.heads_only, force=args.force)
        if args.original_encoder is not None:
            config = dataclasses.replace(config, heads=dataclasses.replace(config.heads,
                                                                           original_encoder=args.original_encoder))
        if args.keep_heldout:
            config = dataclasses.replace(config, heads=dataclasses.replace(config.heads, learn_heldout=False))
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

    runtime = start_runtime(args.device, "retrain")
    if isinstance(runtime, int):
        return runtime
    try:
        if not runtime.is_main:  # rank 0 reads the store, decides and writes; this rank helps
            follow(config.encoder_factory, runtime)
            return 0
        code = _retrain_on_rank_0(args, config, runtime)
    finally:
        runtime.close()
    if runtime.distributed and code in (EXIT_REJECTED, EXIT_BUSY):
        print(f"retrain: exit code {code} given as 0 under torchrun (see python -m verbatim.training --help)",
              file=sys.stderr)
        return 0
    return code


def _retrain_on_rank_0(args: argparse.Namespace, config: RetrainConfig, runtime: Runtime) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from verbatim.models.registry import Registry
    from verbatim.store import Store, StoreError, store_url_from_env
    from verbatim.store.engine import masked_url
    from verbatim.training.lock import LockBusy
    from verbatim.training.retrain import RetrainError, retrain
    from verbatim.training.retrain_ranks import Leader

    url = args.store_url or store_url_from_env()
    try:
        store = Store(url)
    except StoreError as exc:
        Leader(runtime).release()  # the other ranks wait for a plan: there is none
        return _fail(f"--store-url: {exc}")
    except (SQLAlchemyError, ImportError, OSError) as exc:  # unreachable server, bad credentials, no driver
        Leader(runtime).release()
        return _fail(f"--store-url: cannot open the store at {masked_url(url)!r}: {exc}")
    registry = Registry(registry_path(args.registry))
    try:
        with store:
            report = retrain(store, registry, config, runtime=runtime)
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
    train = sub.add_parser("train", help="train the default model from the seed corpus and promote it")
    add_train_arguments(train)
    retrain = sub.add_parser("retrain", help="train a challenger from the store's corrections; promote it if "
                                             "it is not worse than the champion")
    add_retrain_arguments(retrain)
    args = parser.parse_args(argv)
    return run_train(args) if args.command == "train" else run_retrain(args)


if __name__ == "__main__":
    sys.exit(main())
