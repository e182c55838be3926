from __future__ import annotations

import pytest

from verbatim.models.predictor import Predictor
from verbatim.service.errors import ModelNotReady
from verbatim.service.model_slot import ModelSlot


def test_an_empty_slot_is_not_ready() -> None:
    slot = ModelSlot()
    assert not slot.loaded
    with pytest.raises(ModelNotReady):
        slot.current()


def test_swap_serves_the_new_model_and_tells_listeners(tiny_predictor: Predictor) -> None:
    other = Predictor(tiny_predictor.artifact)
    slot = ModelSlot()
    seen: list[tuple[Predictor, Predictor | None]] = []
    slot.subscribe(lambda new, old: seen.append((new, old)))
    assert slot.swap(tiny_predictor) is None
    assert slot.loaded and slot.current() is tiny_predictor
    held = slot.current()  # what a request in flight keeps using
    assert slot.swap(other) is tiny_predictor
    assert slot.current() is other and held is tiny_predictor
    assert seen == [(tiny_predictor, None), (other, tiny_predictor)]
