"""The one error type of the analytics package: bad input, naming the field at fault."""

from __future__ import annotations


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
