"""The retrain cycle on a tiny random-weight encoder: gate, promotion, new accounts, heads-only, crashes."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import torch

from verbatim.models.artifact import Artifact
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Tag
from verbatim.store import Store
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record
from verbatim.training.corrections import as_corrections
from verbatim.training.dataset import build_training_set
from verbatim.training.evaluate import Outcomes
from verbatim.training.heads_only import HeadsConfig, masked_loss
from verbatim.training.holdout import HoldoutConfig, build_splits
from verbatim.training.lineage import read_learned
from verbatim.training.lock import LockBusy, RetrainLock
from verbatim.training.retrain import LOCK_FILE, RetrainConfig, retrain
from verbatim.training.retrain_report import Decision, gate_checks

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 5, 1, tzinfo=timezone.utc)
WORDS = {
    "Cats": "cat kitten meow purr whiskers feline tabby litter".split(),
    "Dogs": "dog puppy bark woof leash canine fetch kennel".split(),
    "Birds": "bird sparrow feather chirp nest wing beak parrot".split(),
    "Fish": "fish trout gill aquarium salmon fin scales reef".split(),
}
TINY = TrainingConfig(epochs=6, batch_size=16, encoder_lr=1e-3, head_lr=1e-2, max_length=32, threads=2)
# Tiny accounts, so hold comments out from 7 on (15 % of 7 >= 1) and judge them on what there is.
CONFIG = RetrainConfig(include_seed=False, encoder_factory=tiny_random_encoder, frozen_layers=None, training=TINY,
                       holdout=HoldoutConfig(min_heldout=1))


def texts_about(tag: str, n: int, seed: int) -> list[str]:
    rng = random.Random(f"{tag}-{seed}")
    return [" ".join(rng.sample(WORDS[tag], 4)) for _ in range(n)]


def labelled(account: str, tags: tuple[str, ...], per_tag: int, seed: int = 0) -> list[Record]:
    return [Record(f"{account}-{tag}-{seed}-{i}", text, frozenset({tag}), None, account=account)
            for tag in tags for i, text in enumerate(texts_about(tag, per_tag, seed))]


def submit(store: Store, records: list[Record]) -> None:
    store.submit_corrections(as_corrections(records, "test", T0))


@dataclass
class Setup:
    registry: Registry
    store_url: str

    def open(self) -> Store:
        return Store(self.store_url)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_registry: Registry) -> tuple[Path, object]:
    """A registry whose champion learnt the `toy` account from corrections, and the first report."""
    root = tmp_path_factory.mktemp("trained")
    shutil.copytree(tiny_registry.root, root / "registry")
    with Store(f"sqlite:///{root / 'store' / 'db.sqlite'}") as store:
        store.put_tags("toy", [Tag("Cats"), Tag("Dogs")])
        submit(store, labelled("toy", ("Cats", "Dogs"), 40))
        report = retrain(store, Registry(root / "registry"), CONFIG, progress=False)
    return root, report


@pytest.fixture
def setup(trained: tuple[Path, object], tmp_path: Path) -> Setup:
    shutil.copytree(trained[0], tmp_path / "copy")
    return Setup(Registry(tmp_path / "copy" / "registry"), f"sqlite:///{tmp_path / 'copy' / 'store' / 'db.sqlite'}")


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
    with setup.open() as store:
        submit(store, labelled("toy", ("Cats", "Dogs"), 3, seed=1))  # new data, so it is not "nothing new"
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


def test_heads_only_learns_a_new_tag_from_a_handful_of_examples(setup: Setup) -> None:
    old = Artifact.load(setup.registry.champion_path())
    with setup.open() as store:
        store.put_tags("zoo", [Tag("Birds", description="no keywords"), Tag("Fish")])
        submit(store, labelled("zoo", ("Birds", "Fish"), 8, seed=3))
        started = time.monotonic()
        report = retrain(store, setup.registry, replace(CONFIG, heads_only=True), progress=False)
        seconds = time.monotonic() - started
        assert report.decision is Decision.PROMOTED, report.reasons
        assert report.dataset["texts_embedded"] > 0
        again = retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
    assert again.dataset["texts_embedded"] == 0  # every text came from the cache
    assert seconds < 60
    new = Artifact.load(setup.registry.path(report.challenger))
    assert new.meta.labels.tags("zoo") == ["Birds", "Fish"] and new.meta.labels.tags("toy") == ["Cats", "Dogs"]
    assert new.meta.training_config["mode"] == "heads-only"
    assert new.meta.tag_count("zoo") == TagCount(at_least_one=True, at_most_one=True)  # one tag a comment
    for name, weight in old.net.encoder.state_dict().items():  # the encoder stayed frozen
        assert torch.equal(weight, new.net.encoder.state_dict()[name]), name
    unseen = [Record("u1", "parrot feather sparrow chirp", frozenset({"Birds"}), None, account="zoo"),
              Record("u2", "salmon reef gill trout", frozenset({"Fish"}), None, account="zoo")]
    assert not {r.text for r in unseen} & {r.text for r in labelled("zoo", ("Birds", "Fish"), 8, seed=3)}
    predictions = Predictor(new).predict([r.text for r in unseen], "zoo")
    assert [p.tag_names for p in predictions] == [{"Birds"}, {"Fish"}]


def test_held_out_comments_the_champion_learned_before_the_split_are_not_judged(setup: Setup) -> None:
    # zoo is split from 20 comments on (15 % of 20 >= 3): first 16, all trained on, then 32.
    config = replace(CONFIG, heads_only=True, holdout=HoldoutConfig(min_heldout=3))
    first = labelled("zoo", ("Birds", "Fish"), 8, seed=3)
    with setup.open() as store:
        store.put_tags("zoo", [Tag("Birds"), Tag("Fish")])
        submit(store, first)
        report = retrain(store, setup.registry, config, progress=False)
        assert report.decision is Decision.PROMOTED and "zoo" not in report.evaluation
        learned = read_learned(setup.registry.path(report.challenger))
        assert learned["zoo"] == {r.id for r in first}
        assert learned["toy"] == read_learned(setup.registry.path(report.champion_before))["toy"]  # kept its encoder

        submit(store, labelled("zoo", ("Birds", "Fish"), 8, seed=4))
        taxonomies = {a: store.taxonomy(a) for a in store.accounts()}
        heldout = build_splits(store, taxonomies, config.holdout, include_seed=False).by_account("heldout")["zoo"]
        report = retrain(store, setup.registry, config, progress=False)
    seen_before = [r for r in heldout if r.id in learned["zoo"]]
    assert seen_before and len(seen_before) < len(heldout)  # the data exercise both sides
    assert report.evaluation["zoo"]["challenger"]["comments"] == len(heldout) - len(seen_before)
    assert (f"zoo: {len(seen_before)} held-out comments left out of judging: the champion learned from them "
            "before the account was split") in report.reasons


def test_a_champion_promoted_by_someone_else_mid_run_is_not_replaced(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    import verbatim.training.retrain as job

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


@pytest.mark.slow
def test_real_encoder_heads_only_learns_a_new_account(tmp_path: Path) -> None:
    from verbatim.models.artifact import ArtifactMeta
    from verbatim.models.encoder import load_base_encoder
    from verbatim.models.network import ThemeSentimentNet
    from verbatim.models.taxonomy import DEFAULT_TAXONOMY

    encoder, tokenizer = load_base_encoder()
    labels = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: DEFAULT_TAXONOMY.names})
    meta = ArtifactMeta(version="v0-base", created_at="", labels=labels, thresholds=[0.5] * len(labels),
                        rule_thresholds=[0.5] * len(labels), taxonomies={DEFAULT_ACCOUNT: DEFAULT_TAXONOMY})
    registry = Registry(tmp_path / "registry")
    with registry.stage("v0-base") as directory:
        Artifact(meta, ThemeSentimentNet(encoder, len(labels)), tokenizer).save(directory)
    registry.promote("v0-base")
    pets = [("my cat sleeps on the keyboard all day", "Cats"), ("the kitten chased a toy mouse", "Cats"),
            ("our tabby purrs when she is fed", "Cats"), ("he adopted two cats from the shelter", "Cats"),
            ("the vet trimmed the cat's claws", "Cats"), ("the dog barked at the mailman", "Dogs"),
            ("we walk the puppy twice a day", "Dogs"), ("my labrador loves to fetch sticks", "Dogs"),
            ("the hound howled all night", "Dogs"), ("she trained her dog to sit", "Dogs")]
    records = [Record(f"p{i}", text, frozenset({tag}), None, account="pets") for i, (text, tag) in enumerate(pets)]
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.put_tags("pets", [Tag("Cats"), Tag("Dogs")])
        submit(store, records)
        report = retrain(store, registry, RetrainConfig(heads_only=True, include_seed=False), progress=False)
    assert report.decision is Decision.PROMOTED and report.durations_s["total"] < 60
    predictions = Predictor.load(registry.champion_path()).predict(
        ["a grumpy old moggy hissed at me", "the retriever wagged its tail"], "pets")
    assert [p.tag_names for p in predictions] == [{"Cats"}, {"Dogs"}]
    assert np.isfinite(Artifact.load(registry.champion_path()).meta.thresholds).all()


# Each comment names its creature in words no other comment uses, so only an encoder that knows
# what the words mean can carry one tag's examples over to another's: the original MiniLM can,
# the tiny random champion cannot.
BIRDS = ["a robin sat on the fence", "the sparrow flew off", "an eagle circled high", "one crow cawed loudly",
         "the owl hooted all night", "a heron stood in the shallows", "that pigeon pecked at crumbs",
         "the swallow dipped low", "a woodpecker drummed on bark", "the seagull stole my chips",
         "a hawk hovered over the verge", "the blackbird sang at dusk"]
FISH = ["a trout rose in the stream", "the salmon leapt upriver", "we caught a cod", "the tuna steak was fresh",
        "a goldfish swam in its bowl", "the herring shoal turned", "a pike lurked in the reeds",
        "the mackerel glittered on ice", "a carp nosed the mud", "the sardines came in a tin",
        "an eel slid under the rock", "a flounder lay on the sand"]


def test_heads_only_reads_a_new_account_from_the_original_encoder_when_its_examples_say_so(setup: Setup) -> None:
    records = [Record(f"wild-{tag}-{i}", text, frozenset({tag}), None, account="wild")
               for tag, texts in (("Birds", BIRDS), ("Fish", FISH)) for i, text in enumerate(texts)]
    with setup.open() as store:
        store.put_tags("wild", [Tag("Birds"), Tag("Fish")])
        submit(store, records)
        report = retrain(store, setup.registry, replace(CONFIG, heads_only=True), progress=False)
        assert report.decision is Decision.PROMOTED, report.reasons
        assert report.dataset["texts_embedded_original"] == len(records) + 80  # and toy's 80: both may choose
        again = retrain(store, setup.registry, replace(CONFIG, heads_only=True, force=True), progress=False)
        assert again.dataset["texts_embedded_original"] == 0  # from the cache
        never = replace(CONFIG, heads_only=True, force=True, heads=HeadsConfig(original_encoder="never"))
        plain = retrain(store, setup.registry, never, progress=False)
    new = Artifact.load(setup.registry.path(report.challenger))
    choice = new.meta.training_config["encoder_choice"]["wild"]
    assert choice["encoder"] == "original" and choice["original"] > choice["champion"], choice
    assert "wild" in new.meta.original_accounts and new.original is not None
    assert (setup.registry.path(report.challenger) / "original_encoder").is_dir()
    assert not Artifact.load(setup.registry.path(plain.challenger)).meta.original_accounts
    unseen = ["a magpie hopped across the lawn", "the finch nibbled seeds", "a halibut on the slab", "the anchovies were salty"]
    predicted = [p.tag_names for p in Predictor(new).predict(unseen, "wild")]
    assert predicted == [{"Birds"}, {"Birds"}, {"Fish"}, {"Fish"}], predicted
