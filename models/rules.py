"""Keyword rules: case-insensitive whole-word matches of each tag's keywords."""

from __future__ import annotations

import re

from verbatim.models.taxonomy import Taxonomy


def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if not keywords:
        return None
    # Longest first, so "help article" wins over "help" as the evidence.
    alternatives = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(part) for part in k.split()) for k in alternatives)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


class KeywordRules:
    """Matches a taxonomy's keyword rules against text; a child's hit brings its parent."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._patterns = {t.name: p for t in taxonomy.tags if (p := _pattern(t.keywords)) is not None}

    def direct_matches(self, text: str) -> dict[str, str]:
        """Tag name -> the matched keyword, for tags whose own keywords occur in the text."""
        hits: dict[str, str] = {}
        for name, pattern in self._patterns.items():
            match = pattern.search(text)
            if match:
                hits[name] = match.group(0)
        return hits

    def match(self, text: str) -> dict[str, str]:
        """Direct matches plus the ancestors they imply (evidence inherited from the child)."""
        hits = self.direct_matches(text)
        for name, evidence in list(hits.items()):
            for ancestor in self.taxonomy.ancestors(name):
                hits.setdefault(ancestor, evidence)
        return hits
