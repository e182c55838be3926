"""A real verbatim server (tiny model, SQLite store, small limits) on a 127.0.0.1 socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service.harness import Harness, serving
from verbatim.models.predictor import Predictor
from verbatim.store import Store

#: The server's limits in these tests: small, so that chunking shows with a few comments.
MAX_COMMENTS = 5
MAX_TEXT_CHARS = 80


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('client') / 'store.db'}") as opened:
        yield opened


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor, store: Store) -> Iterator[Harness]:
    with serving(tiny_predictor, {"store": store}, max_comments_per_request=MAX_COMMENTS,
                 max_corrections_per_request=MAX_COMMENTS,
                 max_text_chars=MAX_TEXT_CHARS, reload_s=0) as harness:
        yield harness


@pytest.fixture()
def target(server: Harness) -> str:
    return f"127.0.0.1:{server.port}"
