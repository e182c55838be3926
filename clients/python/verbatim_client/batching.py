"""Splitting many items into requests the server accepts, and putting the answers back in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from verbatim_client.types import Comment

T = TypeVar("T")

#: The server's default VERBATIM_MAX_COMMENTS_PER_REQUEST, which also bounds SubmitCorrections.
#: A server configured lower says so in its INVALID_ARGUMENT, and the client then uses its figure.
DEFAULT_BATCH_SIZE = 256


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    if size < 1:
        raise ValueError(f"batch size is {size}; it must be at least 1")
    return [items[i:i + size] for i in range(0, len(items), size)]


def check_unique_ids(comments: Sequence[Comment]) -> None:
    """Results are keyed by id; two comments with one id could not be told apart."""
    seen: dict[str, int] = {}
    for i, comment in enumerate(comments):
        if comment.id in seen:
            raise ValueError(f"comments[{i}].id {comment.id!r} repeats comments[{seen[comment.id]}].id")
        seen[comment.id] = i
