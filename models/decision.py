"""Turning head scores and keyword rules into the tags of one comment.

A model score above the tag's threshold adds the tag (MODEL). A keyword hit lowers
the bar to the tag's rule threshold, tuned on dev, so a rule can only add a tag the
model half-believes (RULE, or BOTH when the model alone would have added it). Tuning
keeps rule thresholds equal to the model thresholds when rules would hurt dev F1, so
rules never make the model worse on dev. A tag the model has no output for (a new
custom tag) is added by its rule alone. The account's TagCount then applies: a comment
left with no tag gets its most probable tag, and a single-tag account keeps only its most
probable chosen tag. A child always brings its
ancestors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.types import TagPrediction, TagSource


@dataclass(frozen=True)
class TagScore:
    tag: str
    probability: float
    threshold: float
    rule_threshold: float


def decide_tags(taxonomy: Taxonomy, scores: Sequence[TagScore], rule_hits: dict[str, str],
                count: TagCount = TagCount()) -> tuple[TagPrediction, ...]:
    chosen: dict[str, TagPrediction] = {}
    scored = set()
    for s in scores:
        scored.add(s.tag)
        if s.tag not in taxonomy:
            continue  # the tag was deleted from the taxonomy after training
        evidence = rule_hits.get(s.tag)
        if s.probability >= s.threshold:
            source = TagSource.BOTH if evidence else TagSource.MODEL
        elif evidence and s.probability >= s.rule_threshold:
            source = TagSource.RULE
        else:
            continue
        chosen[s.tag] = TagPrediction(s.tag, taxonomy.get(s.tag).parent, s.probability, source, evidence)
    for tag, evidence in rule_hits.items():
        if tag not in scored and tag not in chosen and tag in taxonomy:
            chosen[tag] = TagPrediction(tag, taxonomy.get(tag).parent, 1.0, TagSource.RULE, evidence)
    chosen = _keep_count(taxonomy, scores, chosen, count)
    for child in list(chosen.values()):
        for ancestor in taxonomy.ancestors(child.name):
            present = chosen.get(ancestor)
            if present is None or present.confidence < child.confidence:
                source = present.source if present else child.source
                evidence = present.evidence if present else child.evidence
                chosen[ancestor] = TagPrediction(ancestor, taxonomy.get(ancestor).parent, child.confidence,
                                                 source, evidence)
    order = {name: i for i, name in enumerate(taxonomy.names)}
    return tuple(sorted(chosen.values(), key=lambda t: order[t.name]))


def _keep_count(taxonomy: Taxonomy, scores: Sequence[TagScore], chosen: dict[str, TagPrediction],
                count: TagCount) -> dict[str, TagPrediction]:
    # Tags are ranked by probability, not by their distance to a threshold: thresholds tuned
    # on a few dev positives are noisy, and on BANKING77 ranking by probability did better.
    if count.at_most_one and len(chosen) > 1:
        ancestors = {a for name in chosen for a in taxonomy.ancestors(name)}
        best = max((name for name in chosen if name not in ancestors), key=lambda name: chosen[name].confidence)
        chosen = {best: chosen[best]}
    if count.at_least_one and not chosen:
        known = [s for s in scores if s.tag in taxonomy]
        if known:
            best = max(known, key=lambda s: s.probability)
            chosen = {best.tag: TagPrediction(best.tag, taxonomy.get(best.tag).parent, best.probability,
                                              TagSource.MODEL)}
    return chosen


def confidence_all_right(scores: Sequence[TagScore], sentiment_top: float) -> float:
    """The estimated probability that a comment's tag decisions and sentiment are all right, from
    calibrated probabilities (training.calibration): the sentiment's top probability times, per
    tag, p where p clears the tag's threshold, else 1 - p."""
    confidence = sentiment_top
    for s in scores:
        confidence *= s.probability if s.probability >= s.threshold else 1.0 - s.probability
    return confidence


def needs_review(scores: Sequence[TagScore], sentiment_top: float, cutoff: float) -> bool:
    """Low confidence: the comment is flagged when confidence_all_right is under the account's
    cut-off, chosen on dev (training.calibration.review_cutoff)."""
    return confidence_all_right(scores, sentiment_top) < cutoff
