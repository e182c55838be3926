"""The store: taxonomies and corrections, durable, behind one thread-safe object."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from verbatim.models.industries import DEFAULT_INDUSTRY, INDUSTRY_TAXONOMIES
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.store.corrections import Correction, Outcome, SubmitResult, differing_fields, validate_correction
from verbatim.store.engine import WRITE, create_store_engine, masked_url, store_url_from_env
from verbatim.store.errors import (AccountExists, CorrectionConflict, InvalidInput, TagHasChildren, UnknownAccount,
                                   UnknownTag)
from verbatim.store.labels import CommentLabels, fold_labels
from verbatim.store.migrations import LATEST_VERSION, current_version, migrate
from verbatim.store.names import check_account_id, check_industry
from verbatim.store.schema import AccountRow, CorrectionRow, TagRow
from verbatim.store.tags import checked_tags, validated_taxonomy

# Serialises correction writers on PostgreSQL, so that arrival order (seq) is commit order and a
# reader paging with since_id never skips a correction that committed late with a smaller seq.
_PG_SUBMIT_LOCK = 0x76657262_636F7272  # "verbcorr"
_IN_CHUNK = 500  # ids per IN (...) list, well under every backend's bound-parameter limit


class Store:
    """Taxonomies and corrections in SQLite or PostgreSQL, chosen by the SQLAlchemy URL.

    Opening a store applies any missing schema migrations and gives the default account the
    default SaaS taxonomy if it has none; a store that needs neither is only read, so a server
    can open one on a read-only disk and answer its writes UNAVAILABLE. Every method runs in
    its own session and transaction, so one Store may be shared by many threads. Methods
    return domain objects and raise `store.errors` exceptions for bad input.
    """

    def __init__(self, url: str) -> None:
        self._engine = create_store_engine(url)
        self._writer = self._engine.execution_options(**{WRITE: True})
        self._url = make_url(url)
        try:
            if self._set_up():
                return
            with self._write() as session:
                migrate(session.connection())
                if self._create_account(session, DEFAULT_ACCOUNT):
                    session.add_all(TagRow(**TagRow.values(DEFAULT_ACCOUNT, tag, i))
                                    for i, tag in enumerate(DEFAULT_TAXONOMY.tags))
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def from_env(cls) -> "Store":
        """A store at VERBATIM_STORE_URL, by default `sqlite:///var/verbatim.db`."""
        return cls(store_url_from_env())

    @property
    def url(self) -> str:
        """The database URL, with any password masked."""
        return masked_url(self._url)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close the pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # ------------------------------------------------------------------ taxonomies

    def accounts(self) -> list[str]:
        """Every account id, sorted."""
        with self._read() as session:
            return list(session.scalars(select(AccountRow.id).order_by(AccountRow.id)))

    def industries(self) -> dict[str, str]:
        """Every account's industry (models.industries), by account id."""
        with self._read() as session:
            rows = session.execute(select(AccountRow.id, AccountRow.industry))
            return {account: industry for account, industry in rows}

    def account_industry(self, account: str) -> str:
        """The industry the account chose when it was created (`saas` for accounts from before)."""
        with self._read() as session:
            industry = session.scalar(select(AccountRow.industry).where(AccountRow.id == account))
            if industry is None:
                raise UnknownAccount(account)
            return industry

    def create_account(self, account: str, industry: str = DEFAULT_INDUSTRY) -> Taxonomy:
        """Create the account with its industry's default taxonomy, and return that taxonomy.

        An account that exists raises AccountExists; an unknown industry, or an account id that takes
        the industry templates' prefix, raises InvalidInput. Either way nothing changes.
        """
        check_account_id(account)
        taxonomy = INDUSTRY_TAXONOMIES[check_industry(industry)]
        with self._write() as session:
            if not self._create_account(session, account, industry):
                raise AccountExists(account)
            session.add_all(TagRow(**TagRow.values(account, tag, i)) for i, tag in enumerate(taxonomy.tags))
        return taxonomy

    def taxonomy(self, account: str) -> Taxonomy:
        """The account's taxonomy, in the order its tags were first added."""
        with self._read() as session:
            self._require_account(session, account)
            return Taxonomy(tuple(row.to_tag() for row in self._tag_rows(session, account)))

    def put_tags(self, account: str, tags: Sequence[Tag], *, max_tags: int | None = None) -> Taxonomy:
        """Create or replace tags by name, creating the account if it is new.

        The whole resulting taxonomy is validated before anything is written: a missing
        parent, a cycle or a name given twice raises InvalidTaxonomy, and more than `max_tags`
        tags (None: no limit) raises InvalidInput, and both change nothing.
        Returns the account's taxonomy after the change.
        """
        check_account_id(account)
        incoming = checked_tags(account, tags)
        with self._write() as session:
            self._create_account(session, account)
            self._lock_account(session, account)
            rows = {row.name: row for row in self._tag_rows(session, account)}
            merged = {name: row.to_tag() for name, row in rows.items()}
            merged.update((tag.name, tag) for tag in incoming)
            if max_tags is not None and len(merged) > max_tags:
                raise InvalidInput("tags", f"account {account!r} would have {len(merged)} tags, the limit is "
                                           f"{max_tags} per account")
            taxonomy = validated_taxonomy(account, merged.values())
            position = max((row.position for row in rows.values()), default=-1) + 1
            for tag in incoming:
                row = rows.get(tag.name)
                if row is None:
                    session.add(TagRow(**TagRow.values(account, tag, position)))
                    position += 1
                else:
                    row.parent, row.description, row.keywords = tag.parent, tag.description, list(tag.keywords)
        return taxonomy

    def delete_tag(self, account: str, name: str) -> Taxonomy:
        """Remove one tag and return the account's taxonomy after the change.

        A tag that other tags name as their parent cannot be deleted (TagHasChildren).
        Corrections that name the tag are kept: they are history, and retraining reads
        them against the taxonomy of the day.
        """
        with self._write() as session:
            self._lock_account(session, account)
            rows = self._tag_rows(session, account)
            target = next((row for row in rows if row.name == name), None)
            if target is None:
                raise UnknownTag(account, name)
            children = [row.name for row in rows if row.parent == name]
            if children:
                raise TagHasChildren(account, name, children)
            session.delete(target)
            return Taxonomy(tuple(row.to_tag() for row in rows if row is not target))

    # ------------------------------------------------------------------ corrections

    def submit_corrections(self, corrections: Sequence[Correction]) -> SubmitResult:
        """Store a batch of corrections, all or nothing, committed before this returns.

        A correction whose correction_id is already stored (or repeated in the batch) with
        identical content is a DUPLICATE and changes nothing, even if its tag has been deleted
        since; with different content it raises CorrectionConflict. A new correction must name
        a known account and, unless it is sentiment-only, a tag of that account's taxonomy.
        """
        batch = list(corrections)
        for i, correction in enumerate(batch):
            validate_correction(correction, f"corrections[{i}]")
        if not batch:
            return SubmitResult(())
        with self._write() as session:
            if self.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SUBMIT_LOCK})
            known = self._stored_corrections(session, {c.correction_id for c in batch})
            tags = self._tag_names(session, {c.account_id for c in batch})
            outcomes: list[Outcome] = []
            new: list[Correction] = []
            for i, c in enumerate(batch):
                prior = known.get(c.correction_id)
                if prior is not None:
                    differs = differing_fields(prior, c)
                    if differs:
                        raise CorrectionConflict(c.correction_id, differs)
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                if c.account_id not in tags:
                    raise UnknownAccount(c.account_id, field=f"corrections[{i}].account_id")
                if c.tag and c.tag not in tags[c.account_id]:
                    raise UnknownTag(c.account_id, c.tag, field=f"corrections[{i}].tag")
                known[c.correction_id] = c
                new.append(c)
                outcomes.append(Outcome.STORED)
            if new:
                received_at = datetime.now(timezone.utc)
                session.execute(insert(CorrectionRow), [CorrectionRow.values(c, received_at) for c in new])
        return SubmitResult(tuple(outcomes))

    def corrections(self, account: str | None = None, since_id: str | None = None) -> list[Correction]:
        """Stored corrections in arrival order, of one account or of all.

        With `since_id`, only those that arrived after the correction with that
        correction_id: a cursor for reading new corrections incrementally.
        """
        with self._read() as session:
            query = select(CorrectionRow).order_by(CorrectionRow.seq)
            if account is not None:
                self._require_account(session, account)
                query = query.where(CorrectionRow.account_id == account)
            if since_id is not None:
                seq = session.scalar(select(CorrectionRow.seq).where(CorrectionRow.correction_id == since_id))
                if seq is None:
                    raise InvalidInput("since_id", f"unknown correction_id {since_id!r}")
                query = query.where(CorrectionRow.seq > seq)
            return [row.to_correction() for row in session.scalars(query)]

    def count_corrections(self, account: str | None = None) -> int:
        """How many corrections are stored, of one account or of all."""
        with self._read() as session:
            query = select(func.count()).select_from(CorrectionRow)
            if account is not None:
                self._require_account(session, account)
                query = query.where(CorrectionRow.account_id == account)
            return int(session.scalar(query) or 0)

    def label_states(self, account: str) -> list[CommentLabels]:
        """The latest state of every corrected comment of the account (see CommentLabels).

        The latest correction of a (comment, tag) wins, by `time` and then by arrival.
        """
        with self._read() as session:
            self._require_account(session, account)
            rows = session.scalars(select(CorrectionRow).where(CorrectionRow.account_id == account)
                                   .order_by(CorrectionRow.seq).execution_options(yield_per=1000))
            return fold_labels((row.seq, row.to_correction()) for row in rows)

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def _set_up(self) -> bool:
        """Whether the schema is current and the default account exists, read without a write lock."""
        with self._read() as session:
            return (current_version(session.connection()) == LATEST_VERSION
                    and session.get(AccountRow, DEFAULT_ACCOUNT) is not None)

    def _create_account(self, session: Session, account: str, industry: str = DEFAULT_INDUSTRY) -> bool:
        """Create the account unless it exists; True if this call created it."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = dialect_insert(AccountRow).values(id=account, created_at=datetime.now(timezone.utc),
                                                      industry=industry)
        created = session.execute(statement.on_conflict_do_nothing(index_elements=["id"]).returning(AccountRow.id))
        return created.first() is not None

    def _lock_account(self, session: Session, account: str) -> None:
        # Taxonomy writers of one account queue up here on PostgreSQL (SQLite has one writer
        # anyway), so a concurrent delete cannot orphan a child that put_tags just validated.
        found = session.scalar(select(AccountRow.id).where(AccountRow.id == account).with_for_update())
        if found is None:
            raise UnknownAccount(account)

    def _require_account(self, session: Session, account: str) -> None:
        if session.get(AccountRow, account) is None:
            raise UnknownAccount(account)

    def _tag_rows(self, session: Session, account: str) -> list[TagRow]:
        return list(session.scalars(select(TagRow).where(TagRow.account_id == account).order_by(TagRow.position)))

    def _tag_names(self, session: Session, accounts: set[str]) -> dict[str, set[str]]:
        """Tag names of the accounts that exist, locked against taxonomy changes on PostgreSQL."""
        names: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(accounts)):
            found = session.scalars(select(AccountRow.id).where(AccountRow.id.in_(chunk))
                                    .with_for_update(read=True))
            names.update((account, set()) for account in found)
            for account, tag in session.execute(select(TagRow.account_id, TagRow.name)
                                                .where(TagRow.account_id.in_(chunk))):
                names[account].add(tag)
        return names

    def _stored_corrections(self, session: Session, ids: set[str]) -> dict[str, Correction]:
        stored: dict[str, Correction] = {}
        for chunk in _chunks(sorted(ids)):
            for row in session.scalars(select(CorrectionRow).where(CorrectionRow.correction_id.in_(chunk))):
                stored[row.correction_id] = row.to_correction()
        return stored


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start:start + _IN_CHUNK]
