"""The store's tables as they are at the latest schema version, as SQLAlchemy 2 declarative
classes. They are for queries only: the tables are created and changed by `store.migrations`,
and a test checks that a migrated database matches these classes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, DateTime, Dialect, ForeignKey,
                        Index, Integer, String, Text, TypeDecorator)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from verbatim.models.taxonomy import Tag
from verbatim.store.corrections import Action, Correction

NAME = String(255)
# SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC on every backend.

    SQLite keeps datetimes as text without an offset, so the offset is normalised away on the
    way in and UTC is put back on the way out; PostgreSQL gets a `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store only keeps timezone-aware times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class SchemaVersionRow(Base):
    __tablename__ = "schema_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __table_args__ = (CheckConstraint("id = 1", name="ck_schema_version_single_row"),)


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(NAME, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The industry whose default taxonomy it started from (models.industries); rows from before
    # industries existed are `saas`.
    industry: Mapped[str] = mapped_column(NAME, nullable=False, server_default="saas")


class TagRow(Base):
    __tablename__ = "tags"
    account_id: Mapped[str] = mapped_column(NAME, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    parent: Mapped[str | None] = mapped_column(NAME, nullable=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # Taxonomy order is meaningful (it is the order of a model's label space), so it is kept.
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    def to_tag(self) -> Tag:
        return Tag(name=self.name, parent=self.parent, description=self.description,
                   keywords=tuple(self.keywords))

    @staticmethod
    def values(account: str, tag: Tag, position: int) -> dict[str, Any]:
        return {"account_id": account, "name": tag.name, "parent": tag.parent, "description": tag.description,
                "keywords": list(tag.keywords), "position": position}


class CorrectionRow(Base):
    __tablename__ = "corrections"
    # Arrival order: writers are serialised, so a larger seq was committed later.
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    correction_id: Mapped[str] = mapped_column(NAME, nullable=False, unique=True)
    account_id: Mapped[str] = mapped_column(NAME, ForeignKey("accounts.id"), nullable=False)
    comment_id: Mapped[str] = mapped_column(NAME, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    tag: Mapped[str] = mapped_column(NAME, nullable=False)
    action: Mapped[str | None] = mapped_column(String(8), nullable=True)
    predicted_by_model: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tag_sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)  # about the tag alone
    actor: Mapped[str] = mapped_column(NAME, nullable=False)
    key_name: Mapped[str | None] = mapped_column(NAME, nullable=True)  # the API key that submitted it
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    __table_args__ = (
        CheckConstraint("action IS NULL OR action IN ('ADD', 'REMOVE')", name="ck_corrections_action"),
        CheckConstraint("sentiment IS NULL OR sentiment IN ('negative', 'neutral', 'positive')",
                        name="ck_corrections_sentiment"),
        Index("ix_corrections_account_seq", "account_id", "seq"),
        Index("ix_corrections_account_comment", "account_id", "comment_id"),
    )

    def to_correction(self) -> Correction:
        return Correction(correction_id=self.correction_id, account_id=self.account_id,
                          comment_id=self.comment_id, text=self.text, tag=self.tag,
                          action=Action(self.action) if self.action is not None else None,
                          predicted_by_model=self.predicted_by_model, sentiment=self.sentiment,
                          tag_sentiment=self.tag_sentiment, actor=self.actor, time=self.time, key_name=self.key_name)

    @staticmethod
    def values(c: Correction, received_at: datetime) -> dict[str, Any]:
        return {"correction_id": c.correction_id, "account_id": c.account_id, "comment_id": c.comment_id,
                "text": c.text, "tag": c.tag, "action": c.action.value if c.action is not None else None,
                "predicted_by_model": c.predicted_by_model, "sentiment": c.sentiment,
                "tag_sentiment": c.tag_sentiment, "actor": c.actor,
                "key_name": c.key_name, "time": c.time, "received_at": received_at}
