"""A test model that reads one account from the original encoder (models.original_encoder)."""

from __future__ import annotations

import copy

import torch

from verbatim.models.artifact import Artifact
from verbatim.models.encoder import load_base_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.original_encoder import OriginalColumns
from verbatim.models.taxonomy import Tag, Taxonomy

ACCOUNT = "bank"
TAXONOMY = Taxonomy([Tag("Payments"), Tag("Birds")])


def with_original_account(champion: Artifact) -> tuple[Artifact, Artifact]:
    """`champion` grown by ACCOUNT's two columns: as ordinary columns, and served from the original
    encoder with a random head (seed 0)."""
    labels = LabelSpace((*champion.meta.labels.labels, *((ACCOUNT, tag) for tag in TAXONOMY.names)))
    plain = copy.deepcopy(champion)
    plain.meta.labels = labels
    plain.meta.taxonomies = {**champion.meta.taxonomies, ACCOUNT: TAXONOMY}
    plain.meta.thresholds = [*champion.meta.thresholds, 0.5, 0.5]
    plain.meta.rule_thresholds = [*champion.meta.rule_thresholds, 0.5, 0.5]
    old = plain.net.theme_head
    plain.net.theme_head = torch.nn.Linear(old.in_features, len(labels))
    with torch.no_grad():
        plain.net.theme_head.weight[: old.out_features] = old.weight
        plain.net.theme_head.bias[: old.out_features] = old.bias
        plain.net.tag_sentiment_head = torch.nn.Linear(old.in_features, len(labels) * 3)
    served = copy.deepcopy(plain)
    served.meta.original_accounts = [ACCOUNT]
    served.original = OriginalColumns(load_base_encoder()[0], labels.indices(ACCOUNT))
    with torch.no_grad():
        served.original.head.weight.copy_(torch.randn(2, 384, generator=torch.Generator().manual_seed(0)))
        served.original.head.bias.copy_(torch.tensor([0.3, -0.2]))
    return plain, served
