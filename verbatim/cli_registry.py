"""`verbatim registry list|show VERSION|promote VERSION|rollback|prune`: the model registry from the shell.

Reads each version's artifact.json only (no torch), so it answers at once. `promote` and
`rollback` swap the champion pointer atomically (models.registry); a running server loads the
new champion by itself within VERBATIM_RELOAD_S (service/reload.py), no restart needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from verbatim.models.registry import DEFAULT_REGISTRY, REGISTRY_ENV, Registry, RegistryError, registry_path
from verbatim.models.retention import KEEP_REPORTS, KEEP_VERSIONS, prune
from verbatim.training.lock import RETRAIN_LOCK_FILE, LockBusy, RetrainLock

META_FILE = "artifact.json"  # models.artifact.META_FILE, not imported: that module loads torch
# (heading, key of headline(), width)
COLUMNS = (("theme µF1", "theme_micro_f1", 9), ("sent. acc", "sentiment_accuracy", 9),
           ("sent. mF1", "sentiment_macro_f1", 9))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `registry` and its actions to the `verbatim` command's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", help=f"registry directory (env {REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    registry = subparsers.add_parser("registry", help="list, inspect, promote and roll back model versions")
    actions = registry.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[common], help="every version, the champion marked with *, "
                                                                "with its seed-test figures")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    show = actions.add_parser("show", parents=[common], help="one version's details")
    show.add_argument("version")
    show.add_argument("--json", action="store_true", help="print the whole artifact.json with the summary")
    promote = actions.add_parser("promote", parents=[common], help="make VERSION the champion (atomic)")
    promote.add_argument("version")
    actions.add_parser("rollback", parents=[common], help="make the previous champion the champion again (atomic)")
    prune = actions.add_parser("prune", parents=[common],
                               help="delete old versions and reports; never the champion, its predecessor, "
                                    "nor anything newer than the champion (also run after every retrain)")
    prune.add_argument("--keep-versions", type=int, default=KEEP_VERSIONS,
                       help=f"newest versions to keep besides those (default {KEEP_VERSIONS})")
    prune.add_argument("--keep-reports", type=int, default=KEEP_REPORTS,
                       help=f"newest retrain reports to keep (default {KEEP_REPORTS})")
    prune.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    registry.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out `args.action`; 0 on success, 2 with one line on stderr on an error."""
    registry = Registry(registry_path(args.registry))
    try:
        return _ACTIONS[args.action](registry, args)
    except (RegistryError, OSError, ValueError) as exc:  # ValueError: an unreadable artifact.json
        if getattr(args, "debug", False):  # `verbatim --debug`: the traceback, not one line
            raise
        print(f"verbatim: error: {exc}", file=sys.stderr)
        return 2


def summary(registry: Registry, version: str) -> dict[str, Any]:
    """A version's headline: kind, creation time, seed-test figures, retrain decision, champion or not."""
    meta = _meta(registry, version)
    evaluation = meta.get("evaluation") or {}
    seed = evaluation.get("seed_test") or {}
    themes, sentiment = seed.get("themes") or {}, seed.get("sentiment") or {}
    return {
        "version": version,
        "champion": version == registry.champion(),
        "kind": kind(meta.get("training_config") or {}),
        "created_at": meta.get("created_at"),
        "theme_micro_f1": themes.get("micro_f1"),
        "theme_macro_f1": themes.get("macro_f1"),
        "keyword_baseline_micro_f1": (seed.get("keyword_baseline") or {}).get("micro_f1"),
        "sentiment_accuracy": sentiment.get("accuracy") if sentiment.get("count") else None,
        "sentiment_macro_f1": sentiment.get("macro_f1") if sentiment.get("count") else None,
        "test_comments": seed.get("comments"),
        "decision": (evaluation.get("retrain") or {}).get("decision"),
    }


def kind(training_config: dict[str, Any]) -> str:
    """How a version was made: `train` (the seed corpus), `retrain` (full) or `heads-only` (quick retrain)."""
    return {"full": "retrain", "heads-only": "heads-only"}.get(training_config.get("mode", ""), "train")


def _list(registry: Registry, args: argparse.Namespace) -> int:
    versions = registry.versions()
    if not versions:
        raise RegistryError(f"no model versions in {registry.root}; run `verbatim train` first")
    rows = [_summary_or_broken(registry, v) for v in versions]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["version"]) for r in rows)
    print(f"  {'version':<{width}}  {'kind':<10}  {'created':<25}  "
          + "  ".join(f"{h:>{w}}" for h, _, w in COLUMNS) + "  retrain   (figures: seed test)")
    for r in rows:
        figures = "  ".join(f"{_figure(r[key]):>{w}}" for _, key, w in COLUMNS)
        print(f"{'*' if r['champion'] else ' '} {r['version']:<{width}}  {r['kind']:<10}  "
              f"{r['created_at'] or '–':<25}  {figures}  {r['decision'] or '–'}")
    if registry.champion() is None:
        print("no champion: `verbatim registry promote VERSION`")
    return 0


def _summary_or_broken(registry: Registry, version: str) -> dict[str, Any]:
    """summary(), or a row of kind `broken` for a version whose artifact.json cannot be read."""
    try:
        return summary(registry, version)
    except RegistryError:
        return {"version": version, "champion": version == registry.champion(), "kind": "broken",
                "created_at": None, "decision": None} | {key: None for _, key, _ in COLUMNS}


def _show(registry: Registry, args: argparse.Namespace) -> int:
    head, meta = summary(registry, args.version), _meta(registry, args.version)
    if args.json:
        print(json.dumps(head | {"artifact": meta}, indent=2))
        return 0
    config = meta.get("training_config") or {}
    retrain = (meta.get("evaluation") or {}).get("retrain") or {}
    base = f" from {config['base_version']}" if config.get("base_version") else ""
    accounts = sorted((meta.get("taxonomies") or {}).items())
    h = {k: _figure(v) if isinstance(v, float | None) else v for k, v in head.items()}
    lines = [f"version:      {head['version']}{'  (champion)' if head['champion'] else ''}",
             f"kind:         {head['kind']}{base}",
             f"created:      {head['created_at'] or '–'}",
             f"path:         {registry.path(args.version)}",
             f"data:         fingerprint {meta.get('data_fingerprint') or '–'}",
             "accounts:     " + ", ".join(f"{account} ({len(tags)} tags)" for account, tags in accounts),
             f"seed test:    {head['test_comments'] or 0} comments; theme micro-F1 {h['theme_micro_f1']}, "
             f"macro-F1 {h['theme_macro_f1']} (keyword rules {h['keyword_baseline_micro_f1']}); "
             f"sentiment accuracy {h['sentiment_accuracy']}, macro-F1 {h['sentiment_macro_f1']}"]
    if retrain:
        lines.append(f"retrain:      {retrain.get('decision')} ({retrain.get('mode')}; champion before: "
                     f"{retrain.get('champion_before') or 'none'})")
        lines += [f"              - {reason}" for reason in retrain.get("reasons", [])]
    print("\n".join(lines))
    return 0


def _promote(registry: Registry, args: argparse.Namespace) -> int:
    _meta(registry, args.version)  # refuse a version without a readable artifact.json
    before = registry.champion()
    if before == args.version:
        print(f"{args.version} is already the champion")
        return 0
    registry.promote(args.version)
    print(f"champion: {before or 'none'} -> {args.version}{_RELOAD_NOTE}")
    return 0


def _rollback(registry: Registry, args: argparse.Namespace) -> int:
    before = registry.champion()
    after = registry.rollback()
    print(f"champion: {before or 'none'} -> {after}{_RELOAD_NOTE}")
    return 0


_RELOAD_NOTE = " (a running server loads it within VERBATIM_RELOAD_S)"
def _prune(registry: Registry, args: argparse.Namespace) -> int:
    try:
        with RetrainLock(registry.root / RETRAIN_LOCK_FILE):  # no retrain publishes while versions go
            pruned = prune(registry, args.keep_versions, args.keep_reports, dry_run=args.dry_run)
    except LockBusy as exc:
        raise RegistryError(f"{exc}; try again when it has finished") from None
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(pruned.versions)} versions and {len(pruned.reports)} reports")
    for version in pruned.versions:
        print(f"  {version}")
    return 0


_ACTIONS = {"list": _list, "show": _show, "promote": _promote, "rollback": _rollback, "prune": _prune}


def _meta(registry: Registry, version: str) -> dict[str, Any]:
    path: Path = registry.path(version) / META_FILE
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"model version {version!r} has no {META_FILE}; it is not a complete artifact") from None
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise RegistryError(f"{path}: not a JSON object")
    return meta


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
