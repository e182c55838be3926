"""Engines for the store's URL: SQLite tuned for durability and concurrent writers, or PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from verbatim.store.errors import StoreError

DEFAULT_STORE_URL = "sqlite:///var/verbatim.db"
STORE_URL_ENV = "VERBATIM_STORE_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 3  # seconds; libpq counts whole seconds (at least 2)
PG_POOL_TIMEOUT_S = 5.0  # waiting for a pooled connection when every one is in use
# An execution option: connections of a writing call take SQLite's write lock at BEGIN.
WRITE = "verbatim_write"


def store_url_from_env() -> str:
    """The store URL from VERBATIM_STORE_URL, or the embedded SQLite default."""
    return os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL


def masked_url(url: str | URL) -> str:
    """`url` fit for a log line or a message: its password masked (`***`)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL; whoever reports it says so
        return "(unparsable URL)"


def create_store_engine(url: str) -> Engine:
    """An engine for `url`. For SQLite it creates the file's directory and sets WAL,
    synchronous=FULL, foreign keys and a busy timeout on every connection.

    Errors never carry their bound parameters (`hide_parameters`): those are comment texts,
    which must not reach a log line or a caller through an exception's message."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        # A database that does not answer (stopped, unreachable) must fail a call within seconds, as
        # UNAVAILABLE, not hang it: libpq's connect timeout unless the URL sets one, and a bounded pool wait.
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_timeout=PG_POOL_TIMEOUT_S,
                             connect_args=timeout)
    raise StoreError(f"{STORE_URL_ENV}: unsupported database {backend!r} in {parsed.render_as_string()!r}; "
                     f"use sqlite:///path or postgresql+psycopg://...")


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        # Each pooled connection would see its own empty database.
        raise StoreError(f"{STORE_URL_ENV}: an in-memory SQLite store is not supported; give a file path")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
                           hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start, instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            mode = _enable_wal(cursor)
            if mode != "wal":
                raise StoreError(f"SQLite store {database!r}: could not enable WAL (journal_mode is {mode!r}); "
                                 f"is it on a network file system?")
            # FULL syncs the WAL on every commit: an acknowledged correction survives a power cut.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer that starts DEFERRED and upgrades later can fail with SQLITE_BUSY despite the
        # timeout; taking the write lock at BEGIN makes writers queue up instead.
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cursor: sqlite3.Cursor) -> str:
    """Switch the database to WAL (a no-op once it is) and return the journal mode now in force."""
    mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while mode != "wal":
        try:
            mode = str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as e:
            # Switching needs an exclusive lock and SQLite does not wait for it with the busy
            # handler, so connections opening a new file at once retry here instead.
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
        else:
            break
    return mode
