"""Store fixtures: every test that uses `store` or `store_url` runs on SQLite and on PostgreSQL.

PostgreSQL comes from VERBATIM_TEST_POSTGRES_URL (start one with `source .ci/postgres.sh`);
without it the PostgreSQL cases are skipped, never silently passed. Each test gets an empty
database: SQLite in tmp_path, PostgreSQL by dropping and recreating the public schema.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from verbatim.store import Action, Correction, Store

POSTGRES_URL_ENV = "VERBATIM_TEST_POSTGRES_URL"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Each call gives the URL of an empty database (on PostgreSQL, by emptying the test one).

    A new SQLite file's directory does not exist yet, so the store must create it.
    """
    if request.param == "sqlite":
        counter = itertools.count()
        return lambda: f"sqlite:///{tmp_path / f'var{next(counter)}' / 'verbatim.db'}"
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: run `source .ci/postgres.sh` to test on PostgreSQL")

    def new() -> str:
        reset_postgres(url)
        return url

    return new


@pytest.fixture
def store_url(new_store_url: Callable[[], str]) -> str:
    """The URL of an empty database."""
    return new_store_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    try:
        yield s
    finally:
        s.close()


MakeCorrection = Callable[..., Correction]


@pytest.fixture
def make_correction() -> MakeCorrection:
    """A factory of valid corrections: `make_correction("c1", tag="Bug", minutes=3, ...)`."""

    def make(correction_id: str, *, account_id: str = "default", comment_id: str = "comment-1",
             text: str = "The Slack integration keeps crashing", tag: str = "Bug",
             action: Action | None = Action.ADD, predicted_by_model: bool = False,
             sentiment: str | None = None, actor: str = "ana@example.com", minutes: float = 0) -> Correction:
        if tag == "" and action is Action.ADD:
            action = None
        return Correction(correction_id=correction_id, account_id=account_id, comment_id=comment_id, text=text,
                          tag=tag, action=action, predicted_by_model=predicted_by_model, sentiment=sentiment,
                          actor=actor, time=T0 + timedelta(minutes=minutes))

    return make
