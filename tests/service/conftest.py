from __future__ import annotations

from collections.abc import Iterator

import pytest

from verbatim.models.predictor import Predictor
from tests.service.harness import Harness, serving


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor) -> Iterator[Harness]:
    """A server with the tiny model and small request limits, shared by a module's tests."""
    with serving(tiny_predictor, max_comments_per_request=5, max_text_chars=80) as harness:
        yield harness
