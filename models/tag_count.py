"""How many tags one comment of an account gets: at least one, at most one, or any number.

Many taxonomies give every comment a tag (aspect categories with a "misc" catch-all), and
some give exactly one (intents). A model trained on a handful of examples per tag often
leaves a comment with no tag above its threshold, or with several. When an account's
labelled comments show such a bound, the decision keeps to it: an untagged comment gets
its most likely tag, and a single-tag account keeps only its most likely tag.

Counts are of leaf tags: a child and the ancestors it brings count as one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from verbatim.models.taxonomy import Taxonomy

SHARE = 0.95  # of an account's labelled comments that must keep to a bound before it is learned
MIN_COMMENTS = 10  # labelled comments an account needs before any bound is learned


@dataclass(frozen=True)
class TagCount:
    at_least_one: bool = False
    at_most_one: bool = False

    def options(self) -> list["TagCount"]:
        """This bound and every looser one, strictest first."""
        looser = [TagCount(least, most) for least in (self.at_least_one, False) for most in (self.at_most_one, False)]
        return list(dict.fromkeys(looser))


def leaf_count(taxonomy: Taxonomy, names: Collection[str]) -> int:
    known = {n for n in names if n in taxonomy}
    ancestors = {a for n in known for a in taxonomy.ancestors(n)}
    return len(known - ancestors)


def learn_tag_count(taxonomy: Taxonomy, tag_sets: Sequence[Collection[str]]) -> TagCount:
    """The bounds that at least SHARE of these labelled comments keep to."""
    if len(tag_sets) < MIN_COMMENTS:
        return TagCount()
    counts = [leaf_count(taxonomy, tags) for tags in tag_sets]
    return TagCount(at_least_one=sum(c >= 1 for c in counts) >= SHARE * len(counts),
                    at_most_one=sum(c <= 1 for c in counts) >= SHARE * len(counts))
