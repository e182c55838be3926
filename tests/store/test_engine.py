"""store.engine: errors that never carry comment text, and URLs with their password masked."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from verbatim.store import Store
from verbatim.store.engine import masked_url

from .conftest import MakeCorrection

SECRET_TEXT = "the invoice for Zanzibar Umbrella Co was 4711 euros"

_REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_corrections BEFORE INSERT ON corrections "
               "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"],
    "postgresql": ["CREATE FUNCTION refuse_corrections() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_corrections BEFORE INSERT ON corrections "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_corrections()"],
}


def test_a_failing_insert_says_which_statement_but_not_the_comment_text(store: Store, store_url: str,
                                                                        make_correction: MakeCorrection) -> None:
    # The database itself refuses the INSERT (a trigger), the way a full disk or a lost server would.
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            for statement in _REFUSE[store.dialect]:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()

    with pytest.raises(SQLAlchemyError) as caught:
        store.submit_corrections([make_correction("c1", text=SECRET_TEXT)])

    logged = "".join(traceback.format_exception(caught.value))
    assert "INSERT INTO corrections" in logged  # the failing statement is the one that carried the text...
    assert "refused by a test trigger" in logged
    assert "4711" not in logged and "Zanzibar" not in logged  # ...but not its parameters
    assert "hidden due to hide_parameters" in logged


@pytest.mark.parametrize("url, shown", [
    ("postgresql+psycopg://verbatim:s3cr3t-pw@db.internal:5432/verbatim",
     "postgresql+psycopg://verbatim:***@db.internal:5432/verbatim"),
    ("postgresql://verbatim@db/verbatim", "postgresql://verbatim@db/verbatim"),
    ("sqlite:///var/verbatim.db", "sqlite:///var/verbatim.db"),
    ("not a url at all: s3cr3t-pw", "(unparsable URL)"),
])
def test_masked_url_hides_only_the_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown
