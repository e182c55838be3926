"""Checks a ClassifyComments request before any work is queued.

Each failure raises InvalidArgument whose message starts with the field path and
names the limit, e.g. `comments[3].text: 5200 characters, the limit is 5000`, so a
caller can fix the request without reading server logs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from verbatim.models.taxonomy import Taxonomy
from verbatim.service.errors import InvalidArgument
from verbatim.service.requests import SCORE_RANGES, ClassifyRequest, CommentInput

MAX_ID_CHARS = 256


@dataclass(frozen=True)
class RequestLimits:
    """The per-request limits of ServiceConfig; None (the default) for the optional ones means unbounded."""

    max_comments: int
    max_text_chars: int
    max_id_chars: int = MAX_ID_CHARS
    max_corrections: int | None = None  # None: the same as max_comments
    max_tags_per_account: int | None = None
    max_keywords_per_tag: int | None = None

    @property
    def corrections(self) -> int:
        return self.max_comments if self.max_corrections is None else self.max_corrections


def validate_classify(request: ClassifyRequest, limits: RequestLimits, taxonomies: Mapping[str, Taxonomy]) -> None:
    """Raise InvalidArgument for the first problem found; `taxonomies` are the model's, by account."""
    count = len(request.comments)
    if count == 0:
        raise InvalidArgument("comments", f"no comments; send between 1 and {limits.max_comments}")
    if count > limits.max_comments:
        raise InvalidArgument("comments", f"{count} comments, the limit is {limits.max_comments} per request")
    taxonomy = check_account("account_id", request.account_id, taxonomies)
    first_seen: dict[str, int] = {}
    for i, comment in enumerate(request.comments):
        _check_comment(i, comment, limits)
        if comment.id in first_seen:
            raise InvalidArgument(f"comments[{i}].id", f"duplicate id {comment.id!r} "
                                                       f"(also comments[{first_seen[comment.id]}].id)")
        first_seen[comment.id] = i
    _check_options(request, taxonomy)


def check_account(field: str, account: str, taxonomies: Mapping[str, Taxonomy]) -> Taxonomy:
    """The account's taxonomy; InvalidArgument naming `field` and the known accounts if there is none."""
    taxonomy = taxonomies.get(account)
    if taxonomy is None:
        raise InvalidArgument(field, f"unknown account {account!r}; known accounts: {sorted(taxonomies)}")
    return taxonomy


def _check_comment(i: int, comment: CommentInput, limits: RequestLimits) -> None:
    where = f"comments[{i}]"
    if not comment.id:
        raise InvalidArgument(f"{where}.id", "must not be empty; results are keyed by id")
    if len(comment.id) > limits.max_id_chars:
        raise InvalidArgument(f"{where}.id", f"{len(comment.id)} characters, the limit is {limits.max_id_chars}")
    if not comment.text:
        raise InvalidArgument(f"{where}.text", "must not be empty")
    if not comment.text.strip():
        raise InvalidArgument(f"{where}.text", "only whitespace; a comment needs some text")
    check_text_length(f"{where}.text", comment.text, limits)
    if comment.score is not None:
        low, high = SCORE_RANGES[comment.survey_type]
        if not (math.isfinite(comment.score) and low <= comment.score <= high):
            survey = comment.survey_type or "a comment without survey_type"
            raise InvalidArgument(f"{where}.score", f"{comment.score:g} is outside {low:g}-{high:g} for {survey}")


def _check_options(request: ClassifyRequest, taxonomy: Taxonomy) -> None:
    options = request.options
    if options.min_confidence is not None and not 0 <= options.min_confidence <= 1:
        raise InvalidArgument("options.min_confidence", f"{options.min_confidence:g} is outside 0-1")
    for k, tag in enumerate(options.only_tags):
        if tag not in taxonomy:
            raise InvalidArgument(f"options.only_tags[{k}]", f"unknown tag {tag!r} for account "
                                                             f"{request.account_id!r}; known tags: {taxonomy.names}")


def validate_corrections(texts: Sequence[str], limits: RequestLimits) -> None:
    """Bound a SubmitCorrections request: its own cap on the count (max_corrections), the comments' cap on
    text length (the store checks each correction's content)."""
    if len(texts) > limits.corrections:
        raise InvalidArgument("corrections", f"{len(texts)} corrections, the limit is {limits.corrections} "
                                             "per request")
    for i, text in enumerate(texts):
        check_text_length(f"corrections[{i}].text", text, limits)


def validate_put_tags(keyword_counts: Sequence[int], limits: RequestLimits) -> None:
    """Bound a PutTags request, given each tag's number of keywords: at least one tag (none would create an
    account with an empty taxonomy), at most max_tags_per_account (the store checks the resulting taxonomy
    against it too), and at most max_keywords_per_tag keywords each."""
    count = len(keyword_counts)
    if count == 0:
        raise InvalidArgument("tags", "no tags; send at least one")
    if limits.max_tags_per_account is not None and count > limits.max_tags_per_account:
        raise InvalidArgument("tags", f"{count} tags, the limit is {limits.max_tags_per_account} per account")
    if limits.max_keywords_per_tag is not None:
        for i, keywords in enumerate(keyword_counts):
            if keywords > limits.max_keywords_per_tag:
                raise InvalidArgument(f"tags[{i}].keywords", f"{keywords} keywords, the limit is "
                                                             f"{limits.max_keywords_per_tag} per tag")


def validate_summary_batch(first_index: int, texts: Sequence[str], limits: RequestLimits) -> None:
    """Bound one message of a SummarizeResponses stream like a ClassifyComments request: at most
    `max_comments` responses and `max_text_chars` characters per text (responses numbered across the stream)."""
    if len(texts) > limits.max_comments:
        raise InvalidArgument("responses", f"{len(texts)} responses in one message, the limit is {limits.max_comments} "
                                           "per message; send them in more messages")
    for k, text in enumerate(texts):
        check_text_length(f"responses[{first_index + k}].text", text, limits)


def check_text_length(field: str, text: str, limits: RequestLimits) -> None:
    """InvalidArgument naming `field` and the limit when `text` is longer than `max_text_chars`."""
    if len(text) > limits.max_text_chars:
        raise InvalidArgument(field, f"{len(text)} characters, the limit is {limits.max_text_chars}")
