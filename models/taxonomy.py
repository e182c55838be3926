"""Tag taxonomies: nested tags with keyword rules, one taxonomy per account."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class Tag:
    name: str
    parent: str | None = None
    description: str = ""
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"name": self.name, "parent": self.parent, "description": self.description,
                "keywords": list(self.keywords)}

    @classmethod
    def from_dict(cls, data: dict) -> "Tag":
        return cls(name=data["name"], parent=data.get("parent"), description=data.get("description", ""),
                   keywords=tuple(data.get("keywords", ())))


class TaxonomyError(ValueError):
    """A taxonomy that cannot be used: unknown parent, cycle, duplicate name."""


@dataclass(frozen=True)
class Taxonomy:
    tags: tuple[Tag, ...]
    _by_name: dict[str, Tag] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Tag] = {}
        for tag in self.tags:
            if not tag.name.strip():
                raise TaxonomyError("tag name must not be empty")
            if tag.name in by_name:
                raise TaxonomyError(f"duplicate tag {tag.name!r}")
            by_name[tag.name] = tag
        for tag in self.tags:
            if tag.parent is not None and tag.parent not in by_name:
                raise TaxonomyError(f"tag {tag.name!r} has parent {tag.parent!r}, which is not a tag")
        for tag in self.tags:
            seen = {tag.name}
            parent = tag.parent
            while parent is not None:
                if parent in seen:
                    raise TaxonomyError(f"tag {tag.name!r} is part of a parent cycle")
                seen.add(parent)
                parent = by_name[parent].parent
        object.__setattr__(self, "_by_name", by_name)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tags]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Tag:
        return self._by_name[name]

    def ancestors(self, name: str) -> list[str]:
        out = []
        parent = self._by_name[name].parent
        while parent is not None:
            out.append(parent)
            parent = self._by_name[parent].parent
        return out

    def close(self, names: set[str] | list[str]) -> set[str]:
        """The tag set plus every ancestor: a child always brings its parent."""
        closed = set(names)
        for name in names:
            closed.update(self.ancestors(name))
        return closed

    def to_list(self) -> list[dict]:
        return [t.to_dict() for t in self.tags]

    @classmethod
    def from_list(cls, data: list[dict]) -> "Taxonomy":
        return cls(tuple(Tag.from_dict(d) for d in data))


def make_tag(name: str, description: str, keywords: str = "", parent: str | None = None) -> Tag:
    """A tag whose keywords are written as one comma-separated string."""
    words = tuple(k.strip() for k in keywords.split(",") if k.strip())
    return Tag(name=name, parent=parent, description=description, keywords=words)


DEFAULT_TAXONOMY = Taxonomy((
    make_tag("Bug", "Something is broken or behaves wrongly.",
         "issue, issues, crash, crashes, crashed, crashing, bug, bugs, buggy, error, errors, glitch, glitches, broken"),
    make_tag("Competition", "A competitor or alternative product is mentioned.",
         "competitor, competitors, competition, switching to, switched from, alternative"),
    make_tag("Documentation", "Docs, help articles, guides, API reference.",
         "docs, documentation, article, articles, help article, help articles, faq, knowledge base, tutorial, tutorials"),
    make_tag("Feature request", "Asks for a capability the product lacks.",
         "wish, add, would like, would love, feature request"),
    make_tag("Implementation", "Setting the product up and rolling it out.",
         "implement, implementation, implementing, setup, set-up, set up, migration, onboarding process"),
    make_tag("Integrations", "Connecting to other software.",
         "integration, integrations, integrate, integrates, integrated, webhook, webhooks, zapier"),
    make_tag("Slack", "The Slack integration.", "slack", parent="Integrations"),
    make_tag("Salesforce", "The Salesforce integration.", "salesforce, sfdc", parent="Integrations"),
    make_tag("HubSpot", "The HubSpot integration.", "hubspot", parent="Integrations"),
    make_tag("Zendesk", "The Zendesk integration.", "zendesk", parent="Integrations"),
    make_tag("Intercom", "The Intercom integration.", "intercom", parent="Integrations"),
    make_tag("Performance", "Speed, load times, uptime and outages.",
         "speed, slow, slowness, fast, uptime, downtime, outage, outages, lag, laggy, 404, timeout, timeouts"),
    make_tag("Price", "Cost, plans, billing amounts and value for money.",
         "cheap, expensive, promo, promotion, deal, price, pricing, price tag, cost, costs, overpriced"),
    make_tag("Support", "Interactions with the vendor's support and success staff.",
         "support, onboarding, on-boarding, assistance, service, tech support, help, account manager"),
    make_tag("Usability", "Ease of use, UI and UX, navigation, learning curve.",
         "easy to use, user friendly, user-friendly, intuitive, confusing, clunky, ui, ux, interface, navigation"),
))
