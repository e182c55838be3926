"""The retrain cycle on a tiny random-weight encoder: gate, promotion, new accounts, heads-only, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from verbatim.models.artifact import Artifact
from verbatim.models.labels import LabelSpace
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.training.dataset import build_training_set
from verbatim.training.evaluate import Outcomes
from verbatim.training.heads_only import masked_loss
from verbatim.training.lock import LockBusy, RetrainLock
from verbatim.training.retrain import LOCK_FILE, retrain
from verbatim.training.retrain_report import Decision, gate_checks

from tests.training.retrain_setup import CONFIG, TINY, Setup, labelled, retrain_with_nests_held_out, submit

REPO = Path(__file__).resolve().parents[2]
def test_a_better_challenger_is_promoted_with_the_new_account_in_its_label_space(
        trained: tuple[Path, object], tiny_registry: Registry) -> None:
    root, report = trained
    registry = Registry(root / "registry")
    assert report.decision is Decision.PROMOTED and report.exit_code == 0
    assert report.reasons[0].startswith("promoted: no worse than the champion")
    [check] = report.gate
    assert (check.account, check.champion) == ("toy", 0.0)  # the old champion knew `toy` by (absent) rules only
    assert check.challenger >= 0.9
    assert registry.champion() == report.challenger != tiny_registry.champion()
    meta = Artifact.load(registry.champion_path()).meta
    assert meta.labels.tags("toy") == ["Cats", "Dogs"]
    assert meta.training_config["mode"] == "full"
    assert meta.training_config["warm_start_from"] == tiny_registry.champion()
    assert meta.evaluation["retrain"]["decision"] == "promoted"
    saved = json.loads(Path(report.paths["json"]).read_text())
    assert saved["decision"] == "promoted" and saved["durations_s"]["total"] > 0 and saved["finished_at"]
    assert saved["dataset"]["accounts"]["toy"]["positives"]["Cats"] > 0
    assert "| toy |" in Path(report.paths["markdown"]).read_text()
    assert (registry.root / "cache" / f"{report.challenger}.npz").exists() and "cache" in report.durations_s


def test_unchanged_data_is_nothing_new(setup: Setup) -> None:
    versions = setup.registry.versions()
    with setup.open() as store:
        report = retrain(store, setup.registry, CONFIG, progress=False)
    assert report.decision is Decision.NOTHING_NEW and report.exit_code == 0
    assert "nothing new" in report.reasons[0]
    assert setup.registry.versions() == versions
    assert json.loads(Path(report.paths["json"]).read_text())["decision"] == "nothing-new"


def test_a_worse_challenger_is_rejected_and_the_champion_stays(setup: Setup) -> None:
    champion, versions = setup.registry.champion(), setup.registry.versions()
    broken = replace(CONFIG, warm_start=False, min_gate_comments=1,  # judged on few comments; a fresh
                     # random encoder whose weights barely move, and no heads refitted after
                     training=replace(TINY, epochs=1, encoder_lr=1e-9, head_lr=1e-9, interpolation=1.0))
    from verbatim.training.corpus import Record
    both = [Record(f"toy-both-{i}", "cat dog kitten puppy", frozenset({"Cats", "Dogs"}), None, account="toy")
            for i in range(6)]
    with setup.open() as store:  # new data, so it is not "nothing new"; comments with both tags, so
        # toy is no intent set, whose columns the full path would refit as a softmax after the epochs
        submit(store, [*labelled("toy", ("Cats", "Dogs"), 3, seed=1), *both])
        report = retrain(store, setup.registry, broken, progress=False)
    assert report.decision is Decision.REJECTED and report.exit_code == 3
    assert "rejected" in report.reasons[0] and "toy micro_f1" in report.reasons[0]
    [check] = [c for c in report.gate if c.account == "toy"]
    assert not check.passed and check.champion is not None and check.challenger < check.champion - 0.01
    assert setup.registry.champion() == champion
    assert setup.registry.versions() == sorted([*versions, report.challenger])  # kept, not champion
    assert Artifact.load(setup.registry.path(report.challenger)).meta.evaluation["retrain"]["decision"] == "rejected"
    with setup.open() as store:  # the same rejected data is not retrained by the next cron run
        again = retrain(store, setup.registry, broken, progress=False)
    assert again.decision is Decision.NOTHING_NEW and "(not promoted)" in again.reasons[0]


def test_a_crash_inside_training_leaves_champion_and_versions(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    champion, versions = setup.registry.champion(), setup.registry.versions()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory, say")
    monkeypatch.setattr("verbatim.training.retrain.train", crash)
    with setup.open() as store:
        submit(store, labelled("toy", ("Cats",), 2, seed=2))
        with pytest.raises(RuntimeError, match="out of memory"):
            retrain(store, setup.registry, replace(CONFIG, force=True), progress=False)
    assert setup.registry.champion() == champion and setup.registry.versions() == versions
    assert not (setup.registry.root / LOCK_FILE).exists()
    reports = [json.loads(p.read_text()) for p in (setup.registry.root / "reports").glob("*.json")]
    [failed] = [r for r in reports if r["decision"] == "failed"]
    assert "out of memory" in failed["reasons"][0] and failed["champion_after"] == champion


def test_a_crash_while_saving_leaves_no_half_written_version(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    champion, versions = setup.registry.champion(), setup.registry.versions()
    real_save = Artifact.save

    def half_save(self: Artifact, directory: Path) -> None:
        real_save(self, directory)
        (directory / "heads.safetensors").unlink()
        raise OSError("disk full")
    monkeypatch.setattr(Artifact, "save", half_save)
    with setup.open() as store, pytest.raises(OSError, match="disk full"):
        retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
    assert setup.registry.champion() == champion and setup.registry.versions() == versions
    assert list(setup.registry.staging_dir.iterdir()) == []


_KILLED_RUN = """
import sys, time
from pathlib import Path
import verbatim.training.retrain as job
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.registry import Registry
from verbatim.store import Store
def hang(*args, **kwargs):
    Path(sys.argv[3]).write_text("training")
    time.sleep(600)
job.train = hang
config = job.RetrainConfig(include_seed=False, encoder_factory=tiny_random_encoder, force=True, frozen_layers=None)
job.retrain(Store(sys.argv[1]), Registry(sys.argv[2]), config, progress=False)
"""


def test_sigkill_mid_training_then_the_stale_lock_is_taken_over(setup: Setup, tmp_path: Path) -> None:
    champion, versions = setup.registry.champion(), setup.registry.versions()
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, setup.store_url, str(setup.registry.root), str(ready)],
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 240
        while not ready.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child never reached training"
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    lock = setup.registry.root / LOCK_FILE
    assert lock.read_text().startswith(f"{child.pid}@")  # the killed run's lock is left behind
    assert setup.registry.champion() == champion and setup.registry.versions() == versions
    with setup.open() as store:
        report = retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
    assert report.decision in (Decision.PROMOTED, Decision.REJECTED) and not lock.exists()


def test_the_lock_refuses_a_concurrent_run(setup: Setup) -> None:
    with RetrainLock(setup.registry.root / LOCK_FILE), setup.open() as store, \
            pytest.raises(LockBusy, match=f"{os.getpid()}@"):
        retrain(store, setup.registry, replace(CONFIG, force=True), progress=False)


def test_a_champion_promoted_by_someone_else_mid_run_is_not_replaced(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    import verbatim.training.retrain_heads_only as job

    other = setup.registry.versions()[0]
    assert other != setup.registry.champion()
    real = job.train_heads

    def meanwhile(*args: object, **kwargs: object) -> Artifact:
        setup.registry.promote(other)  # e.g. `verbatim train` finishing during the retrain
        return real(*args, **kwargs)
    monkeypatch.setattr(job, "train_heads", meanwhile)
    with setup.open() as store:
        report = retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
    assert report.decision is Decision.REJECTED and "champion changed during the run" in report.reasons[0]
    assert setup.registry.champion() == other


def test_a_champion_changed_while_the_challenger_is_saved_is_not_replaced(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    # After the gate has decided: the promotion is a compare-and-swap on the champion it judged against.
    import verbatim.training.retrain as job

    other = setup.registry.versions()[0]
    assert other != setup.registry.champion()
    real = job.write_learned

    def meanwhile(*args: object, **kwargs: object) -> None:
        setup.registry.promote(other)  # e.g. `verbatim registry rollback` while the artifact is written
        real(*args, **kwargs)
    monkeypatch.setattr(job, "write_learned", meanwhile)
    with setup.open() as store:
        report = retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
    assert report.decision is Decision.REJECTED and "champion changed during the run" in report.reasons[0]
    assert setup.registry.champion() == other


def test_masked_loss_gives_no_gradient_to_other_accounts_tags() -> None:
    labels = LabelSpace.from_taxonomies({"toy": ["Cats", "Dogs"], "zoo": ["Birds"]})
    records = labelled("toy", ("Cats", "Dogs"), 3)
    data = build_training_set(records, labels, [[] for _ in records])
    targets, mask, sentiment = (torch.from_numpy(a) for a in (data.targets, data.mask, data.sentiment))
    assert mask[:, labels.indices("zoo")].sum() == 0 and mask[:, labels.indices("toy")].all()
    head = torch.nn.Linear(8, len(labels))
    logits = head(torch.randn(len(records), 8))
    masked_loss(logits, torch.zeros(len(records), 3), targets, mask, sentiment.long()).backward()
    assert head.weight.grad[labels.indices("zoo")].abs().sum() == 0
    assert head.weight.grad[labels.indices("toy")].abs().sum() > 0


def test_gate_margin_and_sentiment_only_for_the_default_account() -> None:
    def result(f1: float, accuracy: float, count: int = 40) -> dict:
        return {"themes": {"micro_f1": f1}, "sentiment": {"accuracy": accuracy, "count": count}, "comments": count}
    checks = gate_checks({DEFAULT_ACCOUNT: {"challenger": result(0.80, 0.70), "champion": result(0.81, 0.72)},
                          "toy": {"challenger": result(0.50, 0.0), "champion": result(0.5101, 0.9)},
                          "new": {"challenger": result(0.10, 0.0), "champion": None}}, margin=0.01)
    assert [(c.account, c.metric, c.passed) for c in checks] == [
        (DEFAULT_ACCOUNT, "micro_f1", True), (DEFAULT_ACCOUNT, "sentiment_accuracy", False),
        ("new", "micro_f1", True), ("toy", "micro_f1", False)]


def test_gate_does_not_block_on_too_few_held_out_comments() -> None:
    def result(f1: float, comments: int) -> dict:
        return {"themes": {"micro_f1": f1}, "sentiment": {"accuracy": 0.0, "count": 0}, "comments": comments}
    checks = gate_checks({"small": {"challenger": result(0.5, 5), "champion": result(0.9, 5)},
                          "large": {"challenger": result(0.5, 30), "champion": result(0.9, 30)}}, margin=0.01)
    small, large = sorted(checks, key=lambda c: c.account, reverse=True)
    assert (small.binding, small.passed) == (False, True) and "not binding" in small.explain()
    assert (large.binding, large.passed) == (True, False) and "WORSE" in large.explain()
    assert not gate_checks({"small": {"challenger": result(0.5, 5), "champion": result(0.9, 5)}}, 0.01,
                           min_comments=5)[0].passed


def test_gate_lets_a_drop_within_noise_through_and_blocks_one_beyond_it() -> None:
    # 350 paired seed-test comments; the challenger's sentiment is 4 comments (-0.0114) worse.
    old = Outcomes(np.zeros((350, 3), dtype=np.int64), np.array([(1, 1)] * 300 + [(0, 1)] * 50))
    wobble = Outcomes(old.themes, np.array([(0, 1)] * 10 + [(1, 1)] * 290 + [(1, 1)] * 6 + [(0, 1)] * 44))
    broken = Outcomes(old.themes, np.array([(0, 1)] * 40 + [(1, 1)] * 260 + [(0, 1)] * 50))

    def result(outcomes: Outcomes) -> dict:
        return {"themes": {"micro_f1": 0.0}, "comments": 350,
                "sentiment": {"accuracy": outcomes.sentiment[:, 0].mean(), "count": 350}}
    for challenger, passes in ((wobble, True), (broken, False)):
        checks = gate_checks({DEFAULT_ACCOUNT: {"challenger": result(challenger), "champion": result(old)}}, 0.01,
                             outcomes={DEFAULT_ACCOUNT: {"challenger": challenger, "champion": old}})
        [sentiment] = [c for c in checks if c.metric == "sentiment_accuracy"]
        assert sentiment.challenger < sentiment.champion - 0.01 and sentiment.delta_upper is not None
        assert sentiment.passed is passes
        assert ("within what resampling" in sentiment.explain()) is passes


@pytest.mark.parametrize("learn", [True, False])
def test_a_full_retrain_teaches_an_intent_set_its_held_out_corrections_after_the_gate(setup: Setup,
                                                                                      learn: bool) -> None:
    # zoo's comments carry one tag each; Nest is the tag of its held-out comments only, so the
    # model the gate judges never saw it, and only the refit after the gate can serve it.
    from verbatim.models.predictor import Predictor
    from verbatim.training.heads_only import HeadsConfig
    from verbatim.training.lineage import read_learned

    report, held, nests = retrain_with_nests_held_out(setup, replace(CONFIG, heads=HeadsConfig(learn_heldout=learn)),
                                                      nest_only=True)
    assert report.decision is Decision.PROMOTED, report.reasons
    assert report.evaluation["zoo"]["challenger"]["comments"] == nests > 0
    new = Artifact.load(setup.registry.path(report.challenger))
    assert new.meta.tag_count("zoo").at_most_one
    served = Predictor(new).predict(["twig nest nest nest"], "zoo")[0].tag_names
    assert (served == {"Nest"}) is learn, served
    assert (held <= read_learned(setup.registry.path(report.challenger))["zoo"]) is learn
    assert ("zoo" in new.meta.training_config.get("learned_heldout", [])) is learn
