"""The label space: which theme-head output belongs to which (account, tag)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelSpace:
    """Theme-head outputs, in order, each owned by one account."""

    labels: tuple[tuple[str, str], ...]  # (account, tag) per head output

    def __post_init__(self) -> None:
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("label space has a duplicate (account, tag)")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def accounts(self) -> list[str]:
        return sorted({account for account, _ in self.labels})

    def indices(self, account: str) -> list[int]:
        return [i for i, (a, _) in enumerate(self.labels) if a == account]

    def tags(self, account: str) -> list[str]:
        return [tag for a, tag in self.labels if a == account]

    def index(self, account: str, tag: str) -> int:
        return self.labels.index((account, tag))

    def to_list(self) -> list[dict]:
        return [{"account": a, "tag": t} for a, t in self.labels]

    @classmethod
    def from_list(cls, data: list[dict]) -> "LabelSpace":
        return cls(tuple((d["account"], d["tag"]) for d in data))

    @classmethod
    def from_taxonomies(cls, tags_by_account: dict[str, list[str]]) -> "LabelSpace":
        return cls(tuple((account, tag) for account in sorted(tags_by_account) for tag in tags_by_account[account]))
