"""The CLI tests share the client tests' real server (tiny model, SQLite store, limits 5 and 80)."""

from tests.clients.conftest import server, store, target  # noqa: F401 - fixtures
