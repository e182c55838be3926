"""An account the model was not trained on is served by its industry's template heads, for the tags
the template has by name (with the template's thresholds and tag count); its other tags by rules."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.industries import ECOMMERCE_TAXONOMY, template_account
from verbatim.models.labels import LabelSpace
from verbatim.models.predictor import Predictor
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.models.types import TagSource

SHOP = template_account("ecommerce")
DELIVERY = ECOMMERCE_TAXONOMY.get("Delivery")
PRICE = ECOMMERCE_TAXONOMY.get("Price")
LABELS = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: DEFAULT_TAXONOMY.names, SHOP: ECOMMERCE_TAXONOMY.names,
                                     "trained": ["Price"]})


def predictor(industries: dict[str, str] | None, taxonomies: dict[str, Taxonomy]) -> Predictor:
    """A predictor over a model with the default and ecommerce template heads; no network is run."""
    meta = ArtifactMeta(version="v-test", created_at="2026-01-01T00:00:00+00:00", labels=LABELS,
                        thresholds=[0.5 + 0.001 * i for i in range(len(LABELS))],
                        rule_thresholds=[0.2 + 0.001 * i for i in range(len(LABELS))],
                        taxonomies={DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, SHOP: ECOMMERCE_TAXONOMY},
                        tag_counts={SHOP: TagCount(at_least_one=True)})
    artifact = Artifact(meta=meta, net=None, tokenizer=SimpleNamespace(pad_token_id=0))  # type: ignore[arg-type]
    return Predictor(artifact, backend=object()).with_taxonomies(taxonomies, industries)  # type: ignore[arg-type]


def test_an_untrained_account_uses_its_industrys_template_heads_for_the_tags_they_share() -> None:
    own = Tag("Gift cards", keywords=("gift card",))
    live = predictor({"shop": "ecommerce"}, {"shop": Taxonomy((PRICE, own, DELIVERY))})
    view, template = live._account("shop"), [LABELS.index(SHOP, "Delivery"), LABELS.index(SHOP, "Price")]
    assert (view.tags, view.columns) == (["Delivery", "Price"], template)
    assert view.thresholds == [live.meta.thresholds[c] for c in template]
    assert view.rule_thresholds == [live.meta.rule_thresholds[c] for c in template]
    assert view.count == TagCount(at_least_one=True)

    themes = np.zeros(len(LABELS), dtype=np.float32)
    themes[LABELS.index(SHOP, "Delivery")] = 0.9
    themes[LABELS.index("trained", "Price")] = 0.9  # another account's head: not this one's
    sentiment, tag_sentiment = np.array([0.1, 0.1, 0.8]), np.full((len(LABELS), 3), 1 / 3)
    prediction = live.decide("my gift card was fine", "shop", themes, sentiment, tag_sentiment)
    sources = {t.name: (t.source, round(t.confidence, 3)) for t in prediction.tags}
    assert sources == {"Delivery": (TagSource.MODEL, 0.9), "Gift cards": (TagSource.RULE, 1.0)}


def test_a_trained_account_keeps_its_own_heads_and_saas_falls_back_to_the_default_account() -> None:
    taxonomies = {"trained": Taxonomy((PRICE, DELIVERY)), "beta": DEFAULT_TAXONOMY, DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}
    live = predictor({"trained": "ecommerce", "beta": "saas"}, taxonomies)
    assert live._account("trained").columns == [LABELS.index("trained", "Price")]
    assert live._account("beta").columns == live._account(DEFAULT_ACCOUNT).columns
    assert live._account("beta").tags == DEFAULT_TAXONOMY.names


def test_without_an_industry_or_a_template_an_account_is_served_by_rules_alone() -> None:
    taxonomies = {"shop": Taxonomy((DELIVERY,)), "newsroom": Taxonomy((Tag("Ads", keywords=("ads",)),))}
    live = predictor({"newsroom": "media", "shop": "retail"}, taxonomies)  # no media template; unknown industry
    assert live._account("newsroom").columns == [] and live._account("shop").columns == []
    assert predictor(None, taxonomies)._account("shop").columns == []
    assert live.industries == {"newsroom": "media", "shop": "retail"}
