"""Schema versioning, migrations, and the SQLite connection settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, inspect, text, update

from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag
from verbatim.store import LATEST_VERSION, Correction, SchemaError, SchemaTooNew, Store, StoreError
from verbatim.store.engine import create_store_engine
from verbatim.store.migrations import MIGRATIONS, current_version, migrate
from verbatim.store.schema import AccountRow, Base, CorrectionRow, SchemaVersionRow, TagRow

Make = Callable[..., Correction]


def _version(url: str) -> int | None:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return current_version(connection)
    finally:
        engine.dispose()


def _engine(url: str) -> Engine:
    return create_store_engine(url)


def test_migrations_are_numbered_one_to_latest() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert LATEST_VERSION == len(MIGRATIONS) >= 2


def test_a_new_store_is_at_the_latest_version(store_url: str) -> None:
    assert _version(store_url) is None
    Store(store_url).close()
    assert _version(store_url) == LATEST_VERSION
    Store(store_url).close()
    assert _version(store_url) == LATEST_VERSION


def test_the_migrated_schema_matches_the_declarative_tables(store_url: str) -> None:
    Store(store_url).close()
    engine = _engine(store_url)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert set(columns) == set(table.columns.keys()), table.name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
            assert inspector.get_pk_constraint(table.name)["constrained_columns"] == \
                [c.name for c in table.primary_key.columns]
            indexes = {i["name"] for i in inspector.get_indexes(table.name) if not i.get("duplicates_constraint")}
            assert indexes == {i.name for i in table.indexes}, table.name
        uniques = [u["column_names"] for u in inspector.get_unique_constraints("corrections")]
        assert ["correction_id"] in uniques
    finally:
        engine.dispose()


def test_an_old_version_is_migrated_and_keeps_its_data(store_url: str, make_correction: Make) -> None:
    engine = _engine(store_url)
    try:
        with engine.begin() as connection:
            assert migrate(connection, target=1) == (0, 1)
            now = datetime.now(timezone.utc)
            connection.execute(insert(AccountRow), [{"id": "acme", "created_at": now}])
            connection.execute(insert(TagRow), [TagRow.values("acme", Tag("Reporting"), 0)])
            row = CorrectionRow.values(make_correction("c1", account_id="acme", tag="Reporting"), now)
            del row["key_name"], row["tag_sentiment"]  # version 1 has no such columns
            connection.execute(insert(CorrectionRow), [row])
        assert "ix_corrections_account_seq" not in {i["name"] for i in inspect(engine).get_indexes("corrections")}
    finally:
        engine.dispose()
    assert _version(store_url) == 1

    with Store(store_url) as store:
        assert store.accounts() == ["acme", "default"]
        assert store.taxonomy("acme").names == ["Reporting"]
        assert store.taxonomy("default") == DEFAULT_TAXONOMY
        assert [(c.correction_id, c.key_name, c.tag_sentiment) for c in store.corrections("acme")] == [
            ("c1", None, None)]
    assert _version(store_url) == LATEST_VERSION
    engine = _engine(store_url)
    try:
        assert "ix_corrections_account_seq" in {i["name"] for i in inspect(engine).get_indexes("corrections")}
    finally:
        engine.dispose()


def test_a_newer_version_is_refused_and_left_alone(store_url: str) -> None:
    Store(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(SchemaVersionRow).values(version=LATEST_VERSION + 1))
    finally:
        engine.dispose()
    with pytest.raises(SchemaTooNew, match=f"version {LATEST_VERSION + 1}.*at most {LATEST_VERSION}") as caught:
        Store(store_url)
    assert (caught.value.found, caught.value.supported) == (LATEST_VERSION + 1, LATEST_VERSION)
    assert _version(store_url) == LATEST_VERSION + 1


def test_a_database_with_foreign_tables_of_our_names_is_refused(store_url: str) -> None:
    engine = _engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE accounts (something INTEGER)"))
        with pytest.raises(SchemaError, match=r"\['accounts'\].*no schema_version"):
            Store(store_url)
        assert not inspect(engine).has_table("schema_version")
    finally:
        engine.dispose()


def test_sqlite_connections_use_wal_full_sync_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "verbatim.db"
    Store(f"sqlite:///{path}").close()
    assert path.is_file()
    engine = create_store_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    finally:
        engine.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("mysql://u@h/db", "unsupported database 'mysql'"),
])
def test_unusable_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store(url)


def test_connections_to_a_new_sqlite_file_at_once_all_get_wal(tmp_path: Path) -> None:
    def connect(url: str, barrier: threading.Barrier) -> str:
        engine = create_store_engine(url)
        try:
            barrier.wait()
            with engine.connect() as connection:
                return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar())
        finally:
            engine.dispose()

    for round_ in range(100):
        url, barrier = f"sqlite:///{tmp_path / f'{round_}.db'}", threading.Barrier(8)
        with ThreadPoolExecutor(8) as pool:
            modes = list(pool.map(connect, [url] * 8, [barrier] * 8))
        assert modes == ["wal"] * 8
