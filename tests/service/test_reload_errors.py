"""The reload poll tells a store outage (logged once, no traceback) from a bug (logged with its traceback)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from verbatim.models.predictor import Predictor
from verbatim.service import reload
from verbatim.service.model_slot import ModelSlot
from verbatim.service.reload import Reloader

RELOAD_LOGGER = "verbatim.service.reload"


class FailingStore:
    """Stands in for the store: every read raises whatever `error` holds."""

    url = "sqlite:///nowhere.db"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def accounts(self) -> list[str]:
        raise self.error


def polls(reloader: Reloader, times: int) -> None:
    async def run() -> None:
        for _ in range(times):
            await reloader.poll_once()
        await reloader.close()
    asyncio.run(run())


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == RELOAD_LOGGER and r.levelno >= logging.WARNING]


def test_a_store_outage_is_logged_once_without_a_traceback(tiny_predictor: Predictor,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    outage = OperationalError("SELECT accounts", {}, sqlite3.OperationalError("unable to open database file"))
    slot = ModelSlot(tiny_predictor)
    reloader = Reloader(slot, store=FailingStore(outage))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger=RELOAD_LOGGER):
        polls(reloader, 3)
    logged = records(caplog)
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert logged[0].exc_info is None
    assert slot.current() is tiny_predictor  # the last known taxonomies keep serving


def test_a_bug_is_logged_with_its_traceback_and_again_while_it_lasts(tiny_predictor: Predictor,
                                                                     caplog: pytest.LogCaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bug = KeyError("tags")
    slot = ModelSlot(tiny_predictor)
    reloader = Reloader(slot, store=FailingStore(bug))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger=RELOAD_LOGGER):
        polls(reloader, 2)  # within the interval: the second is not repeated
        assert len(records(caplog)) == 1
        monkeypatch.setattr(reload, "BUG_LOG_INTERVAL_S", 0.0)
        polls(reloader, 2)
    logged = records(caplog)
    assert len(logged) == 3
    for record in logged:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None and record.exc_info[1] is bug
    assert "Traceback" in caplog.text and "KeyError" in caplog.text
    assert slot.current() is tiny_predictor


@pytest.mark.parametrize("error, outage", [
    (OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
    (OSError(28, "No space left on device"), True),
    (KeyError("tags"), False),
    (TypeError("'NoneType' object is not iterable"), False),
])
def test_is_store_outage(error: Exception, outage: bool) -> None:
    assert reload.is_store_outage(error) is outage
