"""The heads-only retrain (training.retrain_heads_only): new heads on frozen embeddings, cached,
from the champion's encoder or the original one."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from verbatim.models.artifact import Artifact
from verbatim.models.labels import LabelSpace
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Tag
from verbatim.store import Store
from verbatim.training.corpus import Record
from verbatim.training.heads_only import HeadsConfig
from verbatim.training.holdout import HoldoutConfig, build_splits
from verbatim.training.lineage import read_learned
from verbatim.training.retrain import RetrainConfig, retrain
from verbatim.training.retrain_report import Decision

from tests.training.retrain_setup import CONFIG, Setup, labelled, retrain_with_nests_held_out, submit


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
    # zoo is split from 20 comments on (15 % of 20 >= 3): first 16, all trained on, then 32. The
    # promoted heads keep their held-out comments unseen, so only the split's lineage is at work.
    config = replace(CONFIG, heads_only=True, holdout=HoldoutConfig(min_heldout=3), heads=HeadsConfig(learn_heldout=False))
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


@pytest.mark.parametrize("learn", [True, False])
def test_promoted_heads_learn_the_held_out_corrections_after_the_gate_passes(setup: Setup, learn: bool) -> None:
    # Nest is tagged on zoo's held-out comments only: the heads the gate judges never see it.
    config = replace(CONFIG, heads_only=True, heads=HeadsConfig(learn_heldout=learn))
    report, held, nests = retrain_with_nests_held_out(setup, config, nest_only=False)
    records = labelled("zoo", ("Birds", "Fish"), 10, seed=5)
    assert report.decision is Decision.PROMOTED, report.reasons
    assert report.evaluation["zoo"]["challenger"]["comments"] == nests > 0
    new = Artifact.load(setup.registry.path(report.challenger))
    learned = read_learned(setup.registry.path(report.challenger))["zoo"]
    nest = Predictor(new).predict(["twig nest nest nest"], "zoo")[0].tag_names
    assert ("Nest" in nest) is learn, nest
    assert (held <= learned) is learn and learned >= {r.id for r in records} - held
    assert new.meta.training_config["refit_with"][-1:] == (["heldout"] if learn else ["dev"])
    assert any("fitted again with the" in reason for reason in report.reasons) is learn


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


def test_a_full_retrain_reads_from_the_original_encoder_the_accounts_the_quick_path_would(setup: Setup) -> None:
    # wild's held-out comments are about nests, tagged Nest alone: only the refit after the gate can serve it
    from verbatim.training.holdout import split_corrections

    records = [Record(f"wild-{tag}-{i}", text, frozenset({tag}), None, account="wild")
               for tag, texts in (("Birds", BIRDS), ("Fish", FISH)) for i, text in enumerate(texts)]
    held = {r.id for r in split_corrections(records, CONFIG.holdout).heldout}
    records = [Record(r.id, "a nest of twigs", frozenset({"Nest"}), None, account="wild") if r.id in held else r
               for r in records]
    with setup.open() as store:
        store.put_tags("wild", [Tag("Birds"), Tag("Fish"), Tag("Nest")])
        submit(store, records)
        report = retrain(store, setup.registry, CONFIG, progress=False)
        assert report.decision is Decision.PROMOTED, report.reasons
        never = retrain(store, setup.registry, replace(CONFIG, force=True, heads=HeadsConfig(original_encoder="never")),
                        progress=False)
    new = Artifact.load(setup.registry.path(report.challenger))
    assert new.meta.training_config["mode"] == "full"
    choice = new.meta.training_config["encoder_choice"]["wild"]
    assert choice["encoder"] == "original" and choice["original"] > choice["champion"], choice
    assert "wild" in new.meta.original_accounts and new.original is not None
    assert new.meta.original_columns() == new.original.columns  # saved and loaded in its head's row order
    assert "wild" in new.meta.calibration["themes"]  # tuned on dev with the rest
    unseen = ["a magpie hopped across the lawn", "the finch nibbled seeds", "a halibut on the slab",
              "the anchovies were salty", "twigs woven into a nest"]
    predicted = [p.tag_names for p in Predictor(new).predict(unseen, "wild")]
    assert predicted == [{"Birds"}, {"Birds"}, {"Fish"}, {"Fish"}, {"Nest"}], predicted
    assert "wild" in new.meta.training_config["learned_heldout"] and held <= read_learned(
        setup.registry.path(report.challenger))["wild"]
    assert not Artifact.load(setup.registry.path(never.challenger)).meta.original_accounts
