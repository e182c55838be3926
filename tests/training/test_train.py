import numpy as np
import pytest

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.training.config import TrainingConfig
from verbatim.models.industries import GENERAL_ACCOUNT, INDUSTRY_TAXONOMIES, template_account
from verbatim.training.corpus import general_split, industry_split, seed_split
from verbatim.training.default_model import train_default_model
from verbatim.training.evaluate import evaluate
from verbatim.training.train import train


def test_masked_accounts_share_one_head() -> None:
    other = Taxonomy((Tag("Food"), Tag("Service")))
    records = seed_split("train", DEFAULT_TAXONOMY)[:40]
    from verbatim.training.corpus import Record
    records += [Record(id=f"r{i}", text=t, tags=frozenset(tags), sentiment=None, account="restaurants")
                for i, (t, tags) in enumerate([("great pasta", {"Food"}), ("rude waiter", {"Service"})] * 10)]
    artifact = train(records, records[:20] + records[-6:], {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, "restaurants": other},
                     TrainingConfig(epochs=1, batch_size=8), "v-test", tiny_random_encoder, progress=False)
    assert artifact.meta.labels.tags("restaurants") == ["Food", "Service"]
    assert len(artifact.meta.labels) == len(DEFAULT_TAXONOMY.names) + 2
    predictor = Predictor(artifact)
    prediction = predictor.predict(["the pasta was cold"], "restaurants")[0]
    assert prediction.tag_names <= {"Food", "Service"}


def test_tiny_default_model_trains_saves_and_promotes(tmp_path) -> None:
    registry = Registry(tmp_path)
    version = train_default_model(registry, TrainingConfig(epochs=1, batch_size=32), tiny_random_encoder,
                                  progress=False)
    assert registry.champion() == version
    predictor = Predictor.load(registry.champion_path())
    evaluation = predictor.meta.evaluation
    assert evaluation["seed_test"]["comments"] == len(seed_split("test", DEFAULT_TAXONOMY))
    assert all(0 < t < 1 for t in predictor.meta.thresholds)
    # Every industry's default account is in the one artifact, with its own heads, evaluated on its test split.
    for industry, taxonomy in INDUSTRY_TAXONOMIES.items():
        assert predictor.meta.labels.tags(template_account(industry)) == taxonomy.names
        assert evaluation["industries"][industry]["comments"] == len(industry_split(industry, "test"))
        assert template_account(industry) in predictor.meta.review_cutoffs
    assert set(predictor.meta.calibration["themes"]) == {template_account(i) for i in INDUSTRY_TAXONOMIES}
    # The other businesses' comments trained the sentiment heads alone: no heads, no taxonomy of their own.
    assert evaluation["train_comments"] == (sum(len(industry_split(i, "train")) for i in INDUSTRY_TAXONOMIES)
                                            + len(general_split("train")))
    assert GENERAL_ACCOUNT not in predictor.meta.labels.accounts and GENERAL_ACCOUNT not in predictor.meta.taxonomies


@pytest.mark.slow
def test_real_encoder_learns_from_a_small_slice() -> None:
    train_records = seed_split("train", DEFAULT_TAXONOMY)[:400]
    dev_records = seed_split("dev", DEFAULT_TAXONOMY)
    artifact = train(train_records, dev_records, {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}, TrainingConfig(epochs=2),
                     "v-slow", progress=False)
    report = evaluate(Predictor(artifact), seed_split("test", DEFAULT_TAXONOMY)[:150], DEFAULT_ACCOUNT)
    # Well above chance after two epochs on 400 comments with the pretrained encoder.
    assert report["sentiment"]["accuracy"] > 0.6
    assert report["themes"]["micro_f1"] > 0.3
    assert np.isfinite(artifact.meta.thresholds).all()


def _tuned_thresholds(champion, dev_comments: int, single_label: bool = False) -> list[float]:
    """The acme columns' thresholds after tune_on_dev on that many dev comments (every one tagged
    Reporting, so a low threshold is what maximises its dev F1)."""
    from tests.conftest import ACME_ACCOUNT, ACME_TAXONOMY
    from verbatim.models.tag_count import TagCount
    from verbatim.training.corpus import Record
    from verbatim.training.heads_only import HeadsConfig, train_heads
    from verbatim.training.train import tune_on_dev

    tags = ({"Reporting"}, {"Mobile app"}) if single_label else ({"Reporting"}, {"Reporting", "Mobile app"})
    records = [Record(f"d{i}", f"comment number {i} about reports and the app", frozenset(tags[i % 2]), None,
                      account=ACME_ACCOUNT) for i in range(max(dev_comments, 20))]
    vectors = np.random.default_rng(0).normal(size=(20, 32)).astype(np.float32)
    artifact = train_heads(champion, records[:20], [], vectors, {ACME_ACCOUNT: ACME_TAXONOMY}, HeadsConfig(), "v-test")
    assert (artifact.meta.tag_count(ACME_ACCOUNT) == TagCount(at_least_one=True, at_most_one=True)) is single_label
    tune_on_dev(artifact, records[:dev_comments])
    return [artifact.meta.thresholds[c] for c in artifact.meta.labels.indices(ACME_ACCOUNT)]


def test_thresholds_move_only_for_a_multi_label_account_with_enough_dev_comments(tiny_predictor: Predictor) -> None:
    from verbatim.models.thresholds import DEFAULT_THRESHOLD
    from verbatim.training.train import MIN_TUNING_COMMENTS

    champion = tiny_predictor.artifact
    assert any(t != DEFAULT_THRESHOLD for t in _tuned_thresholds(champion, MIN_TUNING_COMMENTS))
    assert all(t == DEFAULT_THRESHOLD for t in _tuned_thresholds(champion, MIN_TUNING_COMMENTS - 1))
    assert all(t == DEFAULT_THRESHOLD for t in _tuned_thresholds(champion, 2 * MIN_TUNING_COMMENTS, single_label=True))


def test_full_path_serves_an_intent_set_from_one_softmax() -> None:
    """An account whose comments carry exactly one tag gets its columns refitted as one softmax on
    the trained encoder: after a single epoch on a tiny random encoder, its own training comments
    are served their tag, which the epoch's sigmoid columns alone do not manage."""
    from verbatim.training.corpus import Record

    vocab = {"Card": "card plastic pin chip", "Refund": "refund money back returned",
             "Login": "password login locked account", "Fees": "fee charge charged expensive"}
    intents = Taxonomy(tuple(Tag(name) for name in vocab))
    rng = np.random.default_rng(5)
    records = [Record(f"i{tag}{i}", " ".join(rng.permutation(words.split())[:3]) + " please help", frozenset({tag}),
                      None, account="bank") for tag, words in vocab.items() for i in range(10)]
    seed = seed_split("train", DEFAULT_TAXONOMY)[:24]
    artifact = train([*seed, *records], [], {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, "bank": intents},
                     TrainingConfig(epochs=1, batch_size=8), "v-test", tiny_random_encoder, progress=False)
    served = Predictor(artifact).predict([r.text for r in records], "bank")
    assert [p.tag_names for p in served] == [r.tags for r in records]


def test_each_epoch_rehearses_a_fresh_share_of_the_seed_corpora(monkeypatch) -> None:
    """With rehearsal_share 0.5 every epoch batches every correction (a corrected seed comment
    included) and half of the unchanged seed comments, drawn afresh; at 1.0, every row."""
    import verbatim.training.train as train_module
    from verbatim.training.corpus import Record
    from verbatim.training.dataset import length_bucketed_batches

    epochs: list[list[int]] = []

    def spy(data, batch_size, rng, rows=None):
        batches = length_bucketed_batches(data, batch_size, rng, rows)
        epochs.append(sorted(i for batch in batches for i in batch))
        return batches

    monkeypatch.setattr(train_module, "length_bucketed_batches", spy)
    seed = seed_split("train", DEFAULT_TAXONOMY)[:41]
    corrected = [Record(f"r{i}", text, frozenset({tag}), None, account="restaurants")
                 for i, (text, tag) in enumerate([("great pasta", "Food"), ("rude waiter", "Service")] * 5)]
    records = [*seed, *corrected]
    seed_ids = frozenset(r.id for r in seed[1:])  # seed[0] was corrected since: it is the account's own
    taxonomies = {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, "restaurants": Taxonomy((Tag("Food"), Tag("Service")))}
    for share in (0.5, 1.0):
        epochs.clear()
        train(records, [], taxonomies, TrainingConfig(epochs=3, batch_size=8, rehearsal_share=share), "v-test",
              tiny_random_encoder, progress=False, seed_ids=seed_ids)
        assert len(epochs) == 3
        own = {0, *range(41, 51)}
        for rows in epochs:
            assert len(rows) == len(set(rows)) and own <= set(rows)
            assert len(set(rows) - own) == (20 if share == 0.5 else 40)
        if share == 0.5:
            assert len({tuple(rows) for rows in epochs}) == 3  # a fresh draw each epoch


def test_an_account_served_from_the_original_encoder_does_not_train_the_encoder() -> None:
    import torch

    from verbatim.models.original_encoder import OriginalColumns
    from verbatim.training.corpus import Record
    from verbatim.training.train import label_space

    taxonomies = {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, "bank": Taxonomy((Tag("Card"), Tag("Loan")))}
    seed = seed_split("train", DEFAULT_TAXONOMY)[:48]

    def encoder_after(bank_texts: list[str], apart: bool) -> dict[str, torch.Tensor]:
        bank = [Record(f"b{i}", text, frozenset({"Card" if i % 2 else "Loan"}), None, account="bank")
                for i, text in enumerate(bank_texts)]
        labels = label_space([*seed, *bank], taxonomies)
        original = OriginalColumns(tiny_random_encoder()[0], labels.indices("bank")) if apart else None
        artifact = train([*seed, *bank], [], taxonomies, TrainingConfig(epochs=1, batch_size=8), "v-test",
                         tiny_random_encoder, progress=False, original=original)
        assert artifact.meta.original_accounts == (["bank"] if apart else [])
        return artifact.net.encoder.state_dict()

    cards = [f"my card {n} was declined twice" for n in range(12)]
    loans = [f"loan rates went up by {n} points, mortgage pending" for n in range(12)]
    for apart in (True, False):
        first, second = encoder_after(cards, apart), encoder_after(loans, apart)
        # the bank's comments are different texts: only an encoder that trained on them differs
        same = all(torch.equal(first[name], second[name]) for name in first)
        assert same is apart
