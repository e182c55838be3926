"""Checks for the identifiers the store keeps: account ids, tag names, correction and comment ids."""

from __future__ import annotations

from verbatim.models.industries import INDUSTRY_TAXONOMIES, TEMPLATE_PREFIX
from verbatim.store.errors import InvalidInput

# The columns are VARCHAR(255); checking here gives the same error on SQLite, which would
# otherwise accept longer values, and on PostgreSQL, which would fail with a driver error.
MAX_NAME_LENGTH = 255


def name_problem(value: object) -> str | None:
    """What is wrong with `value` as an identifier, or None if it is usable."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    if value != value.strip():
        return f"must not start or end with whitespace: {value!r}"
    if len(value) > MAX_NAME_LENGTH:
        return f"is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}"
    return text_problem(value)


def text_problem(value: str) -> str | None:
    """What is wrong with `value` as free text, or None if every backend can store it."""
    # PostgreSQL text cannot hold NUL; refusing it everywhere keeps SQLite and PostgreSQL alike.
    if "\x00" in value:
        return "must not contain NUL characters"
    return None


def check_name(field: str, value: object) -> str:
    """Return `value` if it is a usable identifier, else raise InvalidInput naming `field`."""
    problem = name_problem(value)
    if problem is not None:
        raise InvalidInput(field, problem)
    assert isinstance(value, str)
    return value


def check_account_id(account: object) -> str:
    """`account` if it may be created: a usable name that does not take the industry templates' prefix."""
    check_name("account_id", account)
    assert isinstance(account, str)
    if account.startswith(TEMPLATE_PREFIX):
        raise InvalidInput("account_id", f"{account!r} starts with {TEMPLATE_PREFIX!r}, a prefix reserved for "
                                         f"the industries' template accounts")
    return account


def check_industry(industry: object) -> str:
    """`industry` if it is one of models.industries, else InvalidInput naming the field and the choices."""
    if not isinstance(industry, str) or industry not in INDUSTRY_TAXONOMIES:
        raise InvalidInput("industry", f"unknown industry {industry!r}; expected one of "
                                       f"{', '.join(sorted(INDUSTRY_TAXONOMIES))}")
    return industry
