"""The one exception the client raises for a failed RPC."""

from __future__ import annotations

import re

import grpc

_LIMIT = re.compile(r"^(?:comments|corrections): \d+ \w+, the limit is (\d+) per request")


class VerbatimError(Exception):
    """An RPC that failed for good: after any retries, or at once for a code that is not retried.

    `code` is the gRPC status code, `details` the server's message (for INVALID_ARGUMENT it
    names the field and the limit), `target` the server address, `attempts` the tries made.
    """

    def __init__(self, code: grpc.StatusCode, details: str, target: str, attempts: int = 1) -> None:
        self.code, self.details, self.target, self.attempts = code, details, target, attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        # One line: the CLI prints it as is.
        super().__init__(f"{code.name} from {target}{tries}: {' '.join(details.split())}")

    @property
    def request_limit(self) -> int | None:
        """The server's per-request limit when the request was refused for having too many items."""
        match = _LIMIT.match(self.details) if self.code == grpc.StatusCode.INVALID_ARGUMENT else None
        return int(match.group(1)) if match else None
