import random
from dataclasses import replace

import torch

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.network import mean_pool
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record
from verbatim.training.pairs import account_pairs, contrast

CONFIG = TrainingConfig(pair_rounds=3, pair_budget=1000, pair_max_comments=50)


def records(n: int, account: str = "pets") -> list[Record]:
    animals = [("cat", "Cats"), ("dog", "Dogs"), ("fish", None)]
    rows = []
    for i in range(n):
        word, tag = animals[i % 3]
        rows.append(Record(f"{account}{i}", f"the {account} {word} number {i}", frozenset({tag} if tag else ()), None,
                           account=account))
    return rows


def test_pairs_share_a_tag_or_share_none_and_stay_within_their_account() -> None:
    rows = records(12) + records(12, "zoo")
    text_tags = {r.text: (r.account, r.tags) for r in rows}
    pairs = account_pairs(rows, CONFIG, random.Random(0))
    assert pairs and {target for _, _, target in pairs} == {0.0, 1.0}
    for a, b, target in pairs:
        (account_a, tags_a), (account_b, tags_b) = text_tags[a], text_tags[b]
        assert account_a == account_b and a != b
        assert bool(tags_a & tags_b) == (target == 1.0) and tags_a  # the anchor is always tagged
    # 8 tagged comments x 3 rounds x (one same, one other) per account.
    assert len(pairs) == 2 * 8 * 3 * 2


def test_budget_and_size_limit_per_account() -> None:
    rows = records(30, "small") + records(60, "large")
    pairs = account_pairs(rows, replace(CONFIG, pair_budget=25), random.Random(0))
    assert len(pairs) == 25 and all(a.startswith("the") for a, _, _ in pairs)
    texts = {r.text: r.account for r in rows}
    assert {texts[a] for a, _, _ in pairs} == {"small"}  # 60 >= pair_max_comments
    assert account_pairs(rows, replace(CONFIG, pair_rounds=0), random.Random(0)) == []
    assert account_pairs(rows, CONFIG, random.Random(1)) == account_pairs(rows, CONFIG, random.Random(1))


def test_contrast_pulls_same_tag_pairs_together() -> None:
    encoder, tokenizer = tiny_random_encoder()
    rows = records(24)
    pairs = account_pairs(rows, replace(CONFIG, pair_rounds=10), random.Random(0))

    def gap() -> float:
        with torch.no_grad():
            encoder.eval()
            batch = tokenizer([r.text for r in rows], padding=True, return_tensors="pt")
            pooled = mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"])
            similarity = torch.nn.functional.cosine_similarity(pooled[:, None], pooled[None], dim=-1)
            same = torch.tensor([[a.tags == b.tags for b in rows] for a in rows])
            return float(similarity[same].mean() - similarity[~same].mean())
    before = gap()
    contrast(encoder, tokenizer, pairs, replace(CONFIG, pair_lr=1e-3), progress=False)
    assert gap() > before + 0.05
