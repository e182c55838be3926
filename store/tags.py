"""Checks of the tags a caller wants to put into an account's taxonomy."""

from __future__ import annotations

from collections.abc import Iterable

from verbatim.models.taxonomy import Tag, Taxonomy, TaxonomyError
from verbatim.store.errors import InvalidInput, InvalidTaxonomy
from verbatim.store.names import check_name, text_problem


def checked_tags(account: str, tags: Iterable[Tag]) -> list[Tag]:
    """The request's tags, checked one by one and normalised to tuples of keywords."""
    out: list[Tag] = []
    first: dict[str, int] = {}
    for i, tag in enumerate(tags):
        if not isinstance(tag, Tag):
            raise InvalidInput(f"tags[{i}]", f"must be a Tag, got {type(tag).__name__}")
        check_name(f"tags[{i}].name", tag.name)
        if tag.parent is not None:
            check_name(f"tags[{i}].parent", tag.parent)
        if not isinstance(tag.description, str):
            raise InvalidInput(f"tags[{i}].description", "must be a string")
        problem = text_problem(tag.description)
        if problem is not None:
            raise InvalidInput(f"tags[{i}].description", problem)
        for j, keyword in enumerate(tag.keywords):
            check_name(f"tags[{i}].keywords[{j}]", keyword)
        if tag.name in first:
            raise InvalidTaxonomy(account, f"tag {tag.name!r} is given twice (tags[{first[tag.name]}] and tags[{i}])")
        first[tag.name] = i
        out.append(Tag(name=tag.name, parent=tag.parent, description=tag.description, keywords=tuple(tag.keywords)))
    return out


def validated_taxonomy(account: str, tags: Iterable[Tag]) -> Taxonomy:
    """The taxonomy of these tags, or InvalidTaxonomy naming the problem (missing parent, cycle...)."""
    try:
        return Taxonomy(tuple(tags))
    except TaxonomyError as e:
        raise InvalidTaxonomy(account, str(e)) from None
