"""The one error type of the analytics package: bad input, naming the field at fault."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


class InvalidInput(ValueError):
    """Input the analytics cannot use: a score out of range, an unknown survey type, a period that ends
    before it starts, …

    `field` names the offending field (dotted, e.g. ``"period.end"``) so that a caller such as the gRPC
    servicer can map it once to ``INVALID_ARGUMENT`` and tell the client which field to fix.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> "InvalidInput":
        """The same error, with its field nested under `prefix` (``end`` → ``compare_to.end``)."""
        return InvalidInput(f"{prefix}.{self.field}", self.message)


def parse_choice(choices: type[E], name: object, field: str, what: str) -> E:
    """The member of the str-valued enum `choices` named `name` (case-insensitive, spaces ignored);
    `InvalidInput` on `field` listing the known names when there is none."""
    if isinstance(name, choices):
        return name
    try:
        return choices(str(name).strip().lower())
    except ValueError:
        known = ", ".join(str(c.value) for c in choices)
        raise InvalidInput(field, f"unknown {what} {name!r}; expected one of {known}") from None
