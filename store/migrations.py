"""Schema versions and the ordered steps between them, applied automatically when a store opens.

Each step is frozen once released: it declares the tables it creates with its own MetaData,
never with `store.schema`, because those classes always describe the latest version. To
change the schema, append a step and update `store.schema` to match; the tests check both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, Connection,
                        ForeignKey, Index, Integer, MetaData, String, Table, Text, insert, inspect, select,
                        text, update)

from verbatim.store.errors import SchemaError, SchemaTooNew
from verbatim.store.schema import SchemaVersionRow, UTCDateTime

# Any constant would do: it only has to be the same for every process that migrates this database.
_PG_MIGRATION_LOCK = 0x76657262_6D696772  # "verbmigr"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1_tables(connection: Connection) -> None:
    md = MetaData()
    name = String(255)
    Table("accounts", md,
          Column("id", name, primary_key=True),
          Column("created_at", UTCDateTime, nullable=False))
    Table("tags", md,
          Column("account_id", name, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
          Column("name", name, primary_key=True),
          Column("parent", name, nullable=True),
          Column("description", Text, nullable=False),
          Column("keywords", JSON, nullable=False),
          Column("position", Integer, nullable=False))
    Table("corrections", md,
          Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
          Column("correction_id", name, nullable=False, unique=True),
          Column("account_id", name, ForeignKey("accounts.id"), nullable=False),
          Column("comment_id", name, nullable=False),
          Column("text", Text, nullable=False),
          Column("tag", name, nullable=False),
          Column("action", String(8), nullable=True),
          Column("predicted_by_model", Boolean, nullable=False),
          Column("sentiment", String(16), nullable=True),
          Column("actor", name, nullable=False),
          Column("time", UTCDateTime, nullable=False),
          Column("received_at", UTCDateTime, nullable=False),
          CheckConstraint("action IS NULL OR action IN ('ADD', 'REMOVE')", name="ck_corrections_action"),
          CheckConstraint("sentiment IS NULL OR sentiment IN ('negative', 'neutral', 'positive')",
                          name="ck_corrections_sentiment"))
    md.create_all(connection)


def _v2_correction_indexes(connection: Connection) -> None:
    md = MetaData()
    corrections = Table("corrections", md, Column("seq", Integer), Column("account_id", String(255)),
                        Column("comment_id", String(255)))
    Index("ix_corrections_account_seq", corrections.c.account_id, corrections.c.seq).create(connection)
    Index("ix_corrections_account_comment", corrections.c.account_id, corrections.c.comment_id).create(connection)


def _v3_correction_key_name(connection: Connection) -> None:
    # Nullable: corrections stored before keys existed, or by a server without authentication, have none.
    connection.execute(text("ALTER TABLE corrections ADD COLUMN key_name VARCHAR(255)"))


def _v4_account_industry(connection: Connection) -> None:
    # Every account that exists already started from the SaaS taxonomy.
    connection.execute(text("ALTER TABLE accounts ADD COLUMN industry VARCHAR(255) NOT NULL DEFAULT 'saas'"))


def _v5_correction_tag_sentiment(connection: Connection) -> None:
    # Nullable: most corrections say nothing about the tag's own sentiment.
    connection.execute(text("ALTER TABLE corrections ADD COLUMN tag_sentiment VARCHAR(16)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "accounts, tags and corrections", _v1_tables),
    Migration(2, "indexes for per-account reads of corrections (retraining, cursors)", _v2_correction_indexes),
    Migration(3, "the name of the API key that submitted each correction", _v3_correction_key_name),
    Migration(4, "the industry each account chose when it was created", _v4_account_industry),
    Migration(5, "the sentiment a correction gives its tag", _v5_correction_tag_sentiment),
)
LATEST_VERSION = MIGRATIONS[-1].version
_OWN_TABLES = {"accounts", "tags", "corrections"}


def current_version(connection: Connection) -> int | None:
    """The schema version recorded in the database, or None if it has no version table."""
    if not inspect(connection).has_table(SchemaVersionRow.__tablename__):
        return None
    return connection.execute(select(SchemaVersionRow.version)).scalar_one_or_none()


def migrate(connection: Connection, target: int = LATEST_VERSION) -> tuple[int, int]:
    """Apply the missing steps up to `target` inside the caller's transaction; return (from, to).

    Refuses a database newer than this code, and one that has verbatim's tables but no version.
    """
    if connection.dialect.name == "postgresql":
        # Replicas that start together must not both run the same step.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    found = current_version(connection)
    if found is None:
        present = _OWN_TABLES & set(inspect(connection).get_table_names())
        if present:
            raise SchemaError(f"the database has tables {sorted(present)} but no schema_version table; "
                              f"it was not created by verbatim's store, so it is not touched")
        SchemaVersionRow.metadata.tables[SchemaVersionRow.__tablename__].create(connection)
        connection.execute(insert(SchemaVersionRow).values(id=1, version=0))
        found = 0
    if found > LATEST_VERSION:
        raise SchemaTooNew(found, LATEST_VERSION)
    for step in MIGRATIONS:
        if found < step.version <= target:
            step.apply(connection)
    to = max(found, target)
    if to != found:
        connection.execute(update(SchemaVersionRow).values(version=to))
    return found, to
