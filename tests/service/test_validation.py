from __future__ import annotations

import pytest

from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.service.errors import InvalidArgument
from verbatim.service.requests import ClassifyOptions, ClassifyRequest, CommentInput
from verbatim.service.validation import RequestLimits, check_account, validate_classify

TAXONOMIES = {"default": DEFAULT_TAXONOMY, "acme": Taxonomy((Tag("Reporting"),))}
LIMITS = RequestLimits(max_comments=3, max_text_chars=20)


def request(*comments: CommentInput, account: str = "default", options: ClassifyOptions = ClassifyOptions()
            ) -> ClassifyRequest:
    return ClassifyRequest(account_id=account, comments=comments, options=options)


def ok(i: int = 0, text: str = "fine", **kwargs: object) -> CommentInput:
    return CommentInput(id=f"c{i}", text=text, **kwargs)  # type: ignore[arg-type]


def problem(req: ClassifyRequest) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        validate_classify(req, LIMITS, TAXONOMIES)
    return info.value


def test_a_good_request_passes() -> None:
    validate_classify(request(ok(0), ok(1, score=10, survey_type="nps"), ok(2, score=1.0, survey_type="csat"),
                              options=ClassifyOptions(min_confidence=0.5, only_tags=("Bug", "Slack"))),
                      LIMITS, TAXONOMIES)
    validate_classify(request(ok(0, text="x" * 20), account="acme"), LIMITS, TAXONOMIES)


def test_zero_comments() -> None:
    error = problem(request())
    assert error.field == "comments"
    assert str(error) == "comments: no comments; send between 1 and 3"


def test_too_many_comments_names_the_limit() -> None:
    assert str(problem(request(*(ok(i) for i in range(4))))) == "comments: 4 comments, the limit is 3 per request"


def test_empty_text() -> None:
    assert str(problem(request(ok(0), CommentInput(id="c1", text="")))) == "comments[1].text: must not be empty"


def test_whitespace_only_text() -> None:
    error = problem(request(ok(0), ok(1), CommentInput(id="c2", text=" \n\t ")))
    assert error.field == "comments[2].text" and "only whitespace" in str(error)


def test_text_over_the_limit_names_length_and_limit() -> None:
    assert str(problem(request(ok(0), ok(1, text="y" * 21)))) == "comments[1].text: 21 characters, the limit is 20"


def test_duplicate_ids_name_the_id_and_both_places() -> None:
    error = problem(request(ok(0), ok(1), ok(0)))
    assert str(error) == "comments[2].id: duplicate id 'c0' (also comments[0].id)"


def test_empty_and_oversize_ids() -> None:
    assert str(problem(request(CommentInput(id="", text="hi")))) == \
        "comments[0].id: must not be empty; results are keyed by id"
    long_id = "i" * 257
    assert str(problem(request(CommentInput(id=long_id, text="hi")))) == \
        "comments[0].id: 257 characters, the limit is 256"


def test_unknown_account_is_named_and_known_accounts_are_listed() -> None:
    error = problem(request(ok(), account="globex"))
    assert str(error) == "account_id: unknown account 'globex'; known accounts: ['acme', 'default']"
    assert check_account("account_id", "acme", TAXONOMIES) is TAXONOMIES["acme"]


@pytest.mark.parametrize(("score", "survey", "message"), [
    (11, None, "comments[0].score: 11 is outside 0-10 for a comment without survey_type"),
    (-0.5, None, "comments[0].score: -0.5 is outside 0-10 for a comment without survey_type"),
    (11, "nps", "comments[0].score: 11 is outside 0-10 for nps"),
    (0, "csat", "comments[0].score: 0 is outside 1-5 for csat"),
    (8, "ces", "comments[0].score: 8 is outside 1-7 for ces"),
    (float("nan"), "nps", "comments[0].score: nan is outside 0-10 for nps"),
])
def test_score_outside_its_range(score: float, survey: str | None, message: str) -> None:
    assert str(problem(request(ok(score=score, survey_type=survey)))) == message


def test_scores_on_the_range_edges_pass() -> None:
    validate_classify(request(ok(0, score=0), ok(1, score=10), ok(2, score=7, survey_type="ces")), LIMITS, TAXONOMIES)


def test_options_are_checked() -> None:
    error = problem(request(ok(), options=ClassifyOptions(min_confidence=1.5)))
    assert str(error) == "options.min_confidence: 1.5 is outside 0-1"
    error = problem(request(ok(), account="acme", options=ClassifyOptions(only_tags=("Reporting", "Bug"))))
    assert str(error) == "options.only_tags[1]: unknown tag 'Bug' for account 'acme'; known tags: ['Reporting']"
