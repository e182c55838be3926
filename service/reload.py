"""Keeps the serving model current: a new champion from the registry, live taxonomies from the store.

Every `interval_s` the reloader reads the registry's champion pointer. When it names a
version other than the one serving, that version is loaded in a thread beside the old
model, warmed up with one forward pass, given the store's live taxonomies, and swapped
into the slot in one step. Requests that already hold the old predictor finish on it
(see ModelSlot). A version that fails to load is logged once and skipped until the
pointer changes again; the old model keeps serving.

The same poll compares the store's taxonomies with the served ones, so a PutTags or
DeleteTag answered by another replica reaches this one within `interval_s`. On this
replica the servicer calls refresh_taxonomies() before answering, so the change is
served at once. A store outage (is_store_outage) is logged once until the store answers
again; any other error is a bug, logged with its traceback every BUG_LOG_INTERVAL_S while
it lasts. Either way the last known taxonomies keep serving.

Every swap happens under one lock, and each swap reads the store inside it, so the
last swap always reflects the latest committed taxonomy.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import Taxonomy
from verbatim.service.model_slot import ModelSlot
from verbatim.store import Store, UnknownAccount

logger = logging.getLogger(__name__)

Loader = Callable[[Path], Predictor]
WARM_UP_TEXT = "warm-up: the model answers before it serves"
BUG_LOG_INTERVAL_S = 300.0
"""An unexpected error in the poll is logged with its traceback at most this often (a store outage: once)."""


class Reloader:
    """Loads new champions and live taxonomies into `slot`. Use from one event loop.

    Without a registry (or loader) only taxonomies are kept live; without a store the
    artifact's own taxonomies are served.
    """

    def __init__(self, slot: ModelSlot, *, store: Store | None = None, registry: Registry | None = None,
                 load: Loader | None = None, on_load_failure: Callable[[], None] | None = None) -> None:
        if (registry is None) != (load is None):
            raise ValueError("registry and load go together")
        self._slot = slot
        self._store = store
        self._registry = registry
        self._load = load
        self._lock = asyncio.Lock()  # held while swapping
        self._loading = asyncio.Lock()  # one champion load at a time (start-up and the poll may overlap)
        # The champion pointer of the serving model; a pre-loaded slot is taken to be the champion it names.
        self._champion: str | None = slot.current().version if slot.loaded else None
        self._failed: str | None = None  # a champion that failed to load; not retried until the pointer moves
        self._on_load_failure = on_load_failure  # counts refused champions (verbatim_model_load_failures_total)
        self._store_failing = False
        self._bug_logged: dict[str, float] = {}  # unexpected error -> when its traceback was last logged
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-reload")
        self._task: asyncio.Task[None] | None = None

    @property
    def champion(self) -> str | None:
        """The registry version this reloader last put into the slot."""
        return self._champion

    def start(self, interval_s: float) -> None:
        """Poll every `interval_s` seconds on the running loop until close()."""
        nothing_to_poll = self._store is None and self._registry is None
        if self._task is None and interval_s > 0 and not nothing_to_poll:
            self._task = asyncio.get_running_loop().create_task(self._run(interval_s), name="verbatim-reload")

    async def close(self) -> None:
        """Stop polling. A load still running in its thread is abandoned, not awaited."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def poll_once(self) -> None:
        """One poll: load a new champion if there is one, then catch up with the store's taxonomies."""
        if self._registry is not None:
            await self.load_champion()
        await self.refresh_taxonomies()

    async def load_champion(self) -> bool:
        """Serve the registry's champion if it is new and loads; True if the champion is what serves."""
        assert self._registry is not None and self._load is not None, "no registry to load from"
        async with self._loading:
            return await self._load_champion(self._registry, self._load)

    async def _load_champion(self, registry: Registry, load: Loader) -> bool:
        try:
            version = await asyncio.to_thread(registry.champion)
        except OSError as exc:
            logger.warning("cannot read the champion pointer in %s: %s", registry.root, exc)
            return False
        if version is None or version == self._champion or version == self._failed:
            return version is not None and version == self._champion
        logger.info("new champion %s: loading it beside %s", version, self._champion or "no model")
        try:
            loop = asyncio.get_running_loop()
            predictor = await loop.run_in_executor(self._executor, self._load_checked, registry, load, version)
        except Exception as exc:  # any broken artifact: the old model keeps serving
            self._failed = version
            if self._on_load_failure is not None:
                self._on_load_failure()
            logger.error("cannot load model %s; skipping it until the champion changes, still serving %s: %s",
                         version, self._champion or "no model", exc, exc_info=True)
            return False
        async with self._lock:
            read = await self._live_taxonomies()
            if read is None and self._slot.loaded:
                current = self._slot.current()  # the store is down: keep the last known
                read = served_taxonomies(current), current.industries
            if read is not None:
                predictor = await asyncio.to_thread(predictor.with_taxonomies, *read)
            self._slot.swap(predictor)
        self._champion, self._failed = version, None
        return True

    async def refresh_taxonomies(self, account: str | None = None) -> bool:
        """Serve the store's taxonomies: of one account (after a local change), or of all (the poll).

        True if the served taxonomies changed. A no-op without a store or before a model is loaded.
        """
        if self._store is None or not self._slot.loaded:
            return False
        async with self._lock:
            current = self._slot.current()
            served = served_taxonomies(current)
            if account is None:
                read = await self._live_taxonomies()
                if read is None:
                    return False
                live, industries = read
            else:
                live, industries = dict(served), dict(current.industries)
                try:
                    live[account], industries[account] = await asyncio.to_thread(read_account, self._store, account)
                except UnknownAccount:
                    live.pop(account, None)
                    industries.pop(account, None)
            if live == served and serving_industries(current, industries) == serving_industries(current):
                return False
            # Rebuilding every account's keyword rules takes a while with many accounts: off the loop.
            # The lock is still held, so swaps keep their order and none is lost.
            self._slot.swap(await asyncio.to_thread(current.with_taxonomies, live, industries))
            logger.info("serving updated taxonomies (%s)", account or "from the store")
            return True

    async def _run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.poll_once()
            except Exception:  # the poller must outlive any one bad poll
                logger.exception("model reload poll failed")

    async def _live_taxonomies(self) -> tuple[dict[str, Taxonomy], dict[str, str]] | None:
        """Every account's taxonomy and industry in the store; None (logged once per outage) if they
        cannot be read."""
        if self._store is None:
            return None
        try:
            live = await asyncio.to_thread(read_live, self._store)
        except Exception as exc:
            if not is_store_outage(exc):
                # Not the database being away: a bug. Say so with its traceback, and again while it lasts.
                self._log_bug(exc)
                return None
            if not self._store_failing:
                logger.warning("cannot read taxonomies from the store %s; serving the last known ones: %s",
                               self._store.url, exc)
            self._store_failing = True
            return None
        if self._store_failing:
            logger.info("the store %s answers again", self._store.url)
        self._store_failing = False
        return live

    def _log_bug(self, exc: Exception) -> None:
        key, now = f"{type(exc).__qualname__}: {exc}", time.monotonic()
        if now - self._bug_logged.get(key, -math.inf) < BUG_LOG_INTERVAL_S:
            return
        self._bug_logged[key] = now
        logger.error("unexpected error reading taxonomies from the store %s; serving the last known ones "
                     "(logged again every %gs while it lasts)", self._store.url if self._store else None,
                     BUG_LOG_INTERVAL_S, exc_info=exc)

    @staticmethod
    def _load_checked(registry: Registry, load: Loader, version: str) -> Predictor:
        predictor = load(registry.path(version))
        # One forward pass before it serves: a model that loads but cannot run is refused here,
        # and the first real request does not pay for lazy initialisation.
        predictor.scores([WARM_UP_TEXT])
        return predictor


def is_store_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database is unreachable or unusable right now (retrying may cure it), as
    opposed to a bug: a lost or refused connection, a timeout, a locked or read-only file, a full disk."""
    if isinstance(exc, OperationalError | InterfaceError | SQLAlchemyTimeout | DisconnectionError | OSError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def read_taxonomies(store: Store) -> dict[str, Taxonomy]:
    """Every account's taxonomy in the store."""
    taxonomies: dict[str, Taxonomy] = {}
    for account in store.accounts():
        try:
            taxonomies[account] = store.taxonomy(account)
        except UnknownAccount:  # gone between the two reads
            continue
    return taxonomies


def read_live(store: Store) -> tuple[dict[str, Taxonomy], dict[str, str]]:
    """Every account's taxonomy and industry in the store. The industries are read second, so every
    account read has its industry (an account is never deleted, and keeps its industry)."""
    taxonomies = read_taxonomies(store)
    return taxonomies, store.industries()


def read_account(store: Store, account: str) -> tuple[Taxonomy, str]:
    """One account's taxonomy and industry."""
    return store.taxonomy(account), store.account_industry(account)


def serving_industries(predictor: Predictor, industries: Mapping[str, str] | None = None) -> dict[str, str]:
    """The industries (by default the served ones) that change what `predictor` serves: those of the
    accounts it was not trained on, which its industry's template heads serve."""
    trained = set(predictor.meta.labels.accounts)
    industries = predictor.industries if industries is None else industries
    return {account: industry for account, industry in industries.items() if account not in trained}


def served_taxonomies(predictor: Predictor) -> dict[str, Taxonomy]:
    """The taxonomies `predictor` serves, by account (live ones once wrapped, else the artifact's)."""
    return {account: predictor.taxonomy(account) for account in predictor.accounts}
