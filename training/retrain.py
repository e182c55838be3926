"""`verbatim retrain` (DESIGN §5): learn from corrections, promote only what measures no worse.

Reads top to bottom: lock -> dataset -> nothing new? -> challenger (full or heads-only) ->
the same held-out data for challenger and champion -> gate -> stage -> promote -> report.
The store is only read, and the registry changes only by its atomic stage() and promote(),
so a crash at any point leaves the champion and the store as they were.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from verbatim.models.artifact import Artifact, ArtifactError
from verbatim.models.encoder import load_base_encoder
from verbatim.models.industries import template_taxonomies
from verbatim.models.labels import LabelSpace
from verbatim.models.predictor import Predictor
from verbatim.models.registry import REPORTS_DIR, ChampionChanged, Registry, RegistryError, new_version
from verbatim.models.retention import prune as prune_registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.store import Store
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record, fingerprint, themed_accounts
from verbatim.training.distributed import LOCAL, Runtime, Terminated
from verbatim.training.evaluate import Outcomes, evaluate, evaluate_with_outcomes
from verbatim.training.heads_only import HeadsConfig
from verbatim.training.holdout import HELDOUT, HoldoutConfig, Splits, build_splits, dataset_counts
from verbatim.training.lineage import Learned, learned_from, read_learned, unseen, write_learned
from verbatim.training.lock import RETRAIN_LOCK_FILE, RetrainLock, remove_leftovers
from verbatim.training.retrain_heads_only import (CACHE_DIR, HeadsOnlyChallenger, OriginalSide, heads_only_challenger,
                                                 original_side, warm_cache)
from verbatim.training.retrain_ranks import FULL, HEADS_ONLY, Leader, Plan
from verbatim.training.retrain_report import MIN_GATE_COMMENTS, Decision, RetrainReport, gate_checks
from verbatim.training.train import EncoderFactory, learn_single_label, train
from verbatim.training.warm_start import artifact_encoder, freezing

LOCK_FILE = RETRAIN_LOCK_FILE
# Fine-tuning continues from the champion's encoder, every layer trainable. Chosen on seed +
# SemEval restaurants (80% as corrections, 3,464 training comments; micro-F1 on the other
# 20%) on the idle 2-core machine: 3 epochs with the lowest 3 layers frozen 0.844 (129 s of
# training), 6 epochs unfrozen 0.864 (517 s), 8 epochs unfrozen at encoder lr 1e-4 0.871
# (654 s, inside the 15-minute budget), the default account's seed test no worse each time.
# With three industries' corpora (5,728 seed comments) the whole SemEval split as one account
# took 17 min 1 s; rehearsing half of the seed comments each epoch took 11 min 32 s, the seed
# test splits gaining +0.032 / -0.009 / +0.001 theme micro-F1 on the champion (saas, e-commerce,
# media) instead of +0.051 / +0.007 / +0.016 with all of them.
RETRAIN_TRAINING = TrainingConfig(epochs=8, encoder_lr=1e-4, head_lr=5e-3, rehearsal_share=0.5)


class RetrainError(RuntimeError):
    """A retrain that cannot start; the message names the setting to change."""


@dataclass(frozen=True)
class RetrainConfig:
    """Everything one retrain needs besides the store and the registry; validates itself."""

    margin: float = 0.01
    min_gate_comments: int = MIN_GATE_COMMENTS  # fewer held-out comments: the account's check does not block
    holdout: HoldoutConfig = field(default_factory=HoldoutConfig)
    heads_only: bool = False
    force: bool = False
    training: TrainingConfig = RETRAIN_TRAINING
    heads: HeadsConfig = field(default_factory=HeadsConfig)
    warm_start: bool = True  # full path: fine-tune the champion's encoder rather than a fresh one
    frozen_layers: int | None = None  # full path: freeze embeddings and this many lowest layers; None: none
    include_seed: bool = True
    warm_cache: bool = True  # after a full promotion, embed every text for the next heads-only run
    encoder_factory: EncoderFactory = load_base_encoder  # the encoder when there is nothing to warm-start from

    def __post_init__(self) -> None:
        if not 0 <= self.margin < 1:
            raise ValueError(f"RetrainConfig.margin must be in [0, 1), got {self.margin}")
        if self.min_gate_comments < 1:
            raise ValueError(f"RetrainConfig.min_gate_comments must be >= 1, got {self.min_gate_comments}")
        if self.frozen_layers is not None and self.frozen_layers < 0:
            raise ValueError(f"RetrainConfig.frozen_layers must be >= 0 or None, got {self.frozen_layers}")
        for name, kind in (("holdout", HoldoutConfig), ("training", TrainingConfig), ("heads", HeadsConfig)):
            if not isinstance(getattr(self, name), kind):
                raise TypeError(f"RetrainConfig.{name} must be a {kind.__name__}")

    @property
    def mode(self) -> str:
        return HEADS_ONLY if self.heads_only else FULL


def retrain(store: Store, registry: Registry, config: RetrainConfig = RetrainConfig(),
            progress: bool = True, runtime: Runtime = LOCAL) -> RetrainReport:
    """Run DESIGN §5 once and write its report, also when it fails.

    Raises LockBusy if another retrain runs, RetrainError if this one cannot start.
    `runtime`: the device; under torchrun this is rank 0, and the other ranks call
    training.retrain_ranks.follow (see there for what they are told, and when).
    """
    leader = Leader(runtime)
    try:
        report = _retrain(store, registry, config, progress, runtime, leader)
    except Terminated:
        raise  # torchrun is stopping every rank: nobody is left to meet at the barrier
    except BaseException:
        leader.release()  # the others wait for it, unless the run broke inside their collective work
        raise
    leader.release()  # no-op if the run passed it before promoting
    return report


def _retrain(store: Store, registry: Registry, config: RetrainConfig, progress: bool, runtime: Runtime,
             leader: Leader) -> RetrainReport:
    with RetrainLock(registry.root / LOCK_FILE):
        for directory in (CACHE_DIR, REPORTS_DIR):
            remove_leftovers(registry.root / directory)
        registry.remove_leftovers()  # of a run killed while staging or promoting
        champion_before = registry.champion()
        report = RetrainReport(decision=Decision.FAILED, reasons=[], mode=config.mode,
                               champion_before=champion_before, champion_after=champion_before, challenger=None,
                               data_fingerprint="", margin=config.margin, run_id=f"run-{new_version()[1:]}",
                               started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            _cycle(store, registry, config, report, Clock(progress), runtime, leader)
        except BaseException as exc:
            report.decision = Decision.FAILED
            report.reasons.insert(0, f"failed: {type(exc).__name__}: {exc}")
            report.champion_after = registry.champion()
            try:
                _finish(report, registry)
            except OSError as write_error:  # the original failure matters more
                print(f"retrain: could not write the failure report: {write_error}", file=sys.stderr)
            raise
        _finish(report, registry)
        prune_after_retrain(registry)
        return report


def _cycle(store: Store, registry: Registry, config: RetrainConfig, report: RetrainReport, clock: Clock,
           runtime: Runtime, leader: Leader) -> None:
    # 1-2. The dataset: seed corpus plus the latest state of every correction, split per account.
    champion, champion_note = _load_champion(registry)
    taxonomies = {account: store.taxonomy(account) for account in store.accounts()}
    if config.include_seed:
        taxonomies = template_taxonomies() | taxonomies  # the default account's live taxonomy wins
    splits = build_splits(store, taxonomies, config.holdout, config.include_seed)
    report.data_fingerprint = fingerprint([*splits.train, *splits.dev])
    report.dataset = dataset_counts(splits)
    labels = LabelSpace.from_taxonomies({a: taxonomies[a].names for a in themed_accounts(splits.train)})
    clock.lap("dataset", report)
    if not config.force:
        earlier = _already_trained(registry, report.data_fingerprint, labels, config.mode, report.champion_before)
        if earlier is not None:
            report.decision = Decision.NOTHING_NEW
            report.reasons.append(f"nothing new: {earlier} was trained on the same data and labels "
                                  f"(use --force to retrain anyway)")
            return
    if not splits.train:
        raise RetrainError("no training data: the store has no corrections and the seed corpus is off")
    if config.heads_only and champion is None:
        raise RetrainError(f"--heads-only needs a champion to take the encoder from; {champion_note}. "
                           f"Run a full retrain first")

    # 3. The challenger, and the artifacts that stand for it and the champion in evaluation.
    version = report.challenger = new_version(report.data_fingerprint)
    learned_before = read_learned(registry.path(champion.meta.version)) if champion is not None else {}
    judged: Artifact
    incumbent: Artifact | None
    grew_from: Learned = {}  # what the champion learned, when the challenger keeps or continues its encoder
    quick: HeadsOnlyChallenger | None = None
    original: OriginalSide | None = None  # full path: accounts read from the original encoder
    if config.heads_only:
        assert champion is not None
        grew_from = learned_before
        leader.plan(Plan(HEADS_ONLY, champion=str(registry.path(champion.meta.version))))
        quick = heads_only_challenger(registry, champion, splits, taxonomies, config, version, report, clock,
                                      runtime, leader)
        challenger, judged, incumbent = quick.challenger, quick.judged, quick.incumbent
    else:
        warm_from = champion.meta.version if config.warm_start and champion is not None else None
        factory = artifact_encoder(registry.path(warm_from)) if warm_from else config.encoder_factory
        grew_from = learned_before if warm_from else {}
        original = original_side(registry, champion, splits, taxonomies, config.heads, labels, version, report,
                                 runtime)
        clock.lap("choose_encoder", report)
        leader.plan(Plan(FULL, splits.train, taxonomies, config.training, splits.seed_ids,
                         str(registry.path(warm_from)) if warm_from else None, config.frozen_layers,
                         apart=original.accounts if original else frozenset()))
        with leader.together():
            challenger = train(splits.train, splits.dev, taxonomies, config.training, version,
                               freezing(factory, config.frozen_layers), clock.progress, splits.seed_ids,
                               anchor_factory=config.encoder_factory, runtime=runtime,
                               original=original.columns if original else None)
        if original is not None:
            challenger.meta.training_config["encoder_choice"] = original.choice
        if champion is not None:
            champion.net.to(runtime.device)  # judged beside the challenger, on its device
        challenger.meta.training_config.update(mode=FULL, warm_start_from=warm_from,
                                               frozen_layers=config.frozen_layers)
        judged, incumbent = challenger, champion
        clock.lap("train", report)

    # 4. Challenger and champion on the same held-out comments, each account with its live taxonomy,
    # leaving out those the champion learned from before the account was split (training.lineage).
    heldout, left_out = unseen(splits.by_account("heldout"), learned_before)
    new = Predictor(judged).with_taxonomies(taxonomies)
    old = Predictor(incumbent).with_taxonomies(taxonomies) if incumbent is not None else None
    outcomes: dict[str, dict[str, Outcomes]] = {}
    for account, records in sorted(heldout.items()):
        sides = {"challenger": new} | ({"champion": old} if old else {})
        results = {side: evaluate_with_outcomes(predictor, records, account) for side, predictor in sides.items()}
        report.evaluation[account] = {"challenger": results["challenger"][0],
                                      "champion": results["champion"][0] if old else None}
        outcomes[account] = {side: result[1] for side, result in results.items()}
    seed_test = _seed_test(new, report, heldout.get(DEFAULT_ACCOUNT, []), splits)
    clock.lap("evaluate", report)

    # 5. The gate, then the atomic stage and pointer swap.
    report.gate = gate_checks(report.evaluation, config.margin, config.min_gate_comments, outcomes)
    report.reasons += [c.explain() for c in report.gate]
    report.reasons += [f"{account}: {count} held-out comments left out of judging: the champion learned from them "
                       f"before the account was split" for account, count in sorted(left_out.items())]
    report.reasons += [f"{account}: not judged; too few corrected comments to hold {config.holdout.min_heldout} out, "
                       f"so all {len(records)} were trained on" for account, records in
                       sorted(splits.by_account("train").items()) if account not in heldout and account not in left_out]
    _decide(report, champion_note if champion is None else None, registry.champion(), config.margin)
    learned = [*splits.train, *splits.dev]
    extra = splits.corrections(HELDOUT) if report.decision is Decision.PROMOTED and config.heads.learn_heldout else []
    if quick is not None and extra:
        challenger = quick.with_heldout(extra)
        learned += extra
        report.reasons.append(f"the promoted heads were fitted again with the {len(extra)} held-out corrections "
                              "too, after the gate judged them without; later runs judge on newer ones")
        clock.lap("refit_heldout", report)
    elif extra:
        everything, accounts = [*splits.train, *splits.dev, *extra], {r.account for r in extra}
        refitted = sorted(learn_single_label(challenger, everything, accounts - set(challenger.meta.original_accounts))
                          + (original.learn(challenger, everything, accounts, config.heads) if original else []))
        if refitted:
            extra = [r for r in extra if r.account in refitted]
            learned += extra
            challenger.meta.training_config["learned_heldout"] = refitted
            report.reasons.append(f"the single-label or original-encoder tags of {', '.join(refitted)} were fitted "
                                  f"again with their {len(extra)} held-out corrections too, after the gate judged "
                                  "them without; later runs judge on newer ones")
            clock.lap("refit_heldout", report)
    challenger.meta.evaluation = {"retrain": report.summary(), "training_seconds": report.durations_s["train"]}
    if seed_test is not None:
        challenger.meta.evaluation["seed_test"] = seed_test  # GetModelInfo's headline figures
    leader.release()  # every rank still alive: only now may anything be written
    with registry.stage(version) as directory:
        challenger.save(directory)
        write_learned(directory, learned_from(learned, splits.seed_ids, grew_from))
    if report.decision is Decision.PROMOTED:
        try:  # compare and swap: a promotion or rollback since _decide looked wins
            registry.promote(version, expected=report.champion_before)
            report.champion_after = version
        except ChampionChanged as exc:
            report.decision = Decision.REJECTED
            report.reasons.insert(0, f"rejected: the champion changed during the run ({exc}); run again to "
                                     f"compare with the new one")
    clock.lap("save", report)
    if report.decision is Decision.PROMOTED and config.warm_cache and not config.heads_only:
        warm_cache(registry, challenger, splits, report, clock)


def _decide(report: RetrainReport, no_champion: str | None, champion_now: str | None, margin: float) -> None:
    failed = [f"{c.account} {c.metric}" for c in report.gate if not c.passed]
    if champion_now != report.champion_before:
        # Someone promoted another model meanwhile (`verbatim train` takes no lock): the gate
        # judged against a champion that no longer is, so this challenger must not replace it.
        report.decision = Decision.REJECTED
        report.reasons.insert(0, f"rejected: the champion changed during the run ({report.champion_before} -> "
                                 f"{champion_now}); run again to compare with the new one")
    elif no_champion is not None:
        report.decision = Decision.PROMOTED
        report.reasons.insert(0, f"promoted: no usable champion to compare with ({no_champion})")
    elif failed:
        report.decision = Decision.REJECTED
        report.reasons.insert(0, f"rejected: worse than the champion beyond the margin of {margin} on "
                                 f"{', '.join(failed)}")
    else:
        report.decision = Decision.PROMOTED
        report.reasons.insert(0, f"promoted: no worse than the champion beyond the margin of {margin} on any "
                                 "account it can be judged on")


def _load_champion(registry: Registry) -> tuple[Artifact | None, str]:
    try:
        path = registry.champion_path()
        if path is None:
            return None, f"the registry at {registry.root} has no champion"
        return Artifact.load(path), f"champion {registry.champion()}"
    except (RegistryError, ArtifactError) as exc:
        # A broken champion is not serving either (servers refuse it), so it cannot veto.
        return None, f"the champion cannot be loaded: {exc}"


def _already_trained(registry: Registry, data_fingerprint: str, labels: LabelSpace, mode: str,
                     champion: str | None) -> str | None:
    """A version trained on this data and label space that makes training again pointless.

    The champion counts unless it came from the heads-only path and a full retrain is asked
    for (its encoder never saw the data); so does an earlier challenger of the same mode, even
    a rejected one, so a cron job does not retrain the same rejected data again and again. A
    challenger judged better whose promotion was cut short (killed before the champion history
    recorded it) does not count: the next run trains and judges again.
    """
    recorded = {event["version"] for event in registry.history()}
    for version in reversed(registry.versions()):
        try:
            meta = json.loads((registry.path(version) / "artifact.json").read_text())
            same_labels = LabelSpace.from_list(meta["labels"]) == labels
        except (OSError, ValueError, KeyError, TypeError, RegistryError):
            continue
        if meta.get("data_fingerprint") != data_fingerprint or not same_labels:
            continue
        trained = meta.get("training_config", {}).get("mode", FULL)
        base = meta.get("training_config", {}).get("base_version")
        if version == champion and (mode == HEADS_ONLY or trained == FULL):
            return f"the champion {version}"
        interrupted = meta.get("evaluation", {}).get("retrain", {}).get("decision") == Decision.PROMOTED.value \
            and version not in recorded
        if version != champion and trained == mode and (mode == FULL or base == champion) and not interrupted:
            return f"{version} (not promoted)"
    return None


def _seed_test(predictor: Predictor, report: RetrainReport, default_heldout: list[Record],
               splits: Splits) -> dict | None:
    """The challenger on the seed test split alone; the default held-out set often is exactly that."""
    seed = [r for r in default_heldout if r.id in splits.seed_ids]
    if not seed:
        return None
    if len(seed) == len(default_heldout):
        return report.evaluation[DEFAULT_ACCOUNT]["challenger"]
    return evaluate(predictor, seed, DEFAULT_ACCOUNT)


def _finish(report: RetrainReport, registry: Registry) -> None:
    report.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report.durations_s["total"] = round(sum(v for k, v in report.durations_s.items() if k != "total"), 1)
    report.write(registry.root)


class Clock:
    def __init__(self, progress: bool) -> None:
        self.progress = progress
        self.last = time.monotonic()

    def lap(self, step: str, report: RetrainReport, detail: str = "") -> None:
        now = time.monotonic()
        report.durations_s[step] = round(now - self.last, 1)
        self.last = now
        if self.progress:
            print(f"retrain: {step} {report.durations_s[step]:.1f} s" + (f" ({detail})" if detail else ""),
                  file=sys.stderr)


def prune_after_retrain(registry: Registry) -> None:
    """Retention (models.retention) under the lock this run holds; a failure to prune fails nothing."""
    try:
        pruned = prune_registry(registry)
    except OSError as exc:
        print(f"retrain: could not prune the registry: {exc}", file=sys.stderr)
        return
    if pruned.versions or pruned.reports:
        print(f"retrain: pruned {len(pruned.versions)} old versions and {len(pruned.reports)} old reports",
              file=sys.stderr)
