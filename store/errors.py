"""Domain errors of the store. They know nothing of gRPC; the service maps them to status
codes in one place. Every message names the offending account, tag, field or id."""

from __future__ import annotations

from collections.abc import Sequence


class StoreError(Exception):
    """Base class: an error whose message is safe to show to the caller."""


class InvalidInput(StoreError, ValueError):
    """A value that the store refuses before touching the database, e.g. an empty name.

    `field` is the path of the value, such as `corrections[2].text` or `tags[0].name`.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class InvalidCorrection(InvalidInput):
    """A correction that cannot be stored: empty text, bad action, unknown sentiment..."""


class UnknownAccount(StoreError, LookupError):
    """The account has no taxonomy in the store."""

    def __init__(self, account: str, field: str | None = None) -> None:
        where = f"{field}: " if field else ""
        super().__init__(f"{where}unknown account {account!r}")
        self.account, self.field = account, field


class AccountExists(StoreError, ValueError):
    """CreateAccount of an account that is already in the store."""

    def __init__(self, account: str, field: str = "account_id") -> None:
        super().__init__(f"{field}: account {account!r} already exists")
        self.account, self.field = account, field


class UnknownTag(StoreError, LookupError):
    """The tag is not part of the account's taxonomy."""

    def __init__(self, account: str, tag: str, field: str | None = None) -> None:
        where = f"{field}: " if field else ""
        super().__init__(f"{where}unknown tag {tag!r} in the taxonomy of account {account!r}")
        self.account, self.tag, self.field = account, tag, field


class InvalidTaxonomy(StoreError, ValueError):
    """A change that would leave the taxonomy broken: a missing parent, a cycle, a duplicate."""

    def __init__(self, account: str, problem: str) -> None:
        super().__init__(f"taxonomy of account {account!r}: {problem}")
        self.account, self.problem = account, problem


class TagHasChildren(StoreError, ValueError):
    """A tag cannot be deleted while other tags name it as their parent."""

    def __init__(self, account: str, tag: str, children: Sequence[str]) -> None:
        names = ", ".join(repr(c) for c in children)
        super().__init__(f"tag {tag!r} of account {account!r} still has children ({names}); "
                         f"delete or re-parent them first")
        self.account, self.tag, self.children = account, tag, tuple(children)


class CorrectionConflict(StoreError, ValueError):
    """A correction_id that was already used for a correction with different content."""

    def __init__(self, correction_id: str, fields: Sequence[str]) -> None:
        super().__init__(f"correction_id {correction_id!r} was already used for a different correction "
                         f"(differs in: {', '.join(fields)}); a correction_id must not be reused")
        self.correction_id, self.fields = correction_id, tuple(fields)


class SchemaError(StoreError):
    """The database cannot be used by this version of the code."""


class SchemaTooNew(SchemaError):
    """The database was written by a newer version of verbatim; opening it could corrupt it."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(f"the store's schema is version {found}, but this version of verbatim supports "
                         f"at most {supported}; upgrade verbatim instead of opening a newer store with it")
        self.found, self.supported = found, supported
