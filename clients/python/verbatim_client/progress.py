"""Progress for long jobs: a tqdm bar when tqdm is installed, else a plain counter on stderr."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO


class Progress(Protocol):
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Counter:
    """`classified 512/2000` rewritten in place on stderr; tqdm is an optional dependency."""

    def __init__(self, total: int, label: str, stream: TextIO) -> None:
        self.total, self.label, self.stream, self.done = total, label, stream, 0
        self._show()

    def _show(self) -> None:
        self.stream.write(f"\r{self.label} {self.done}/{self.total}")
        self.stream.flush()

    def update(self, n: int) -> None:
        self.done += n
        self._show()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def progress(total: int, label: str, enabled: bool, unit: str = "comments") -> Progress:
    """A progress display for `total` items on stderr, or one that shows nothing."""
    if not enabled:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Counter(total, label, sys.stderr)
    return tqdm(total=total, desc=label, unit=f" {unit}", file=sys.stderr)  # type: ignore[no-any-return]
