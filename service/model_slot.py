"""The model that serves new requests, swappable while requests are in flight.

A request reads current() once and keeps that predictor for its whole life (its queued
comments carry it), so swap() never changes the model under a request that started.
"""

from __future__ import annotations

from collections.abc import Callable

from verbatim.models.predictor import Predictor
from verbatim.service.errors import ModelNotReady

Listener = Callable[[Predictor, Predictor | None], None]


class ModelSlot:
    def __init__(self, predictor: Predictor | None = None) -> None:
        self._predictor = predictor
        self._listeners: list[Listener] = []

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    def current(self) -> Predictor:
        """The serving predictor; raises ModelNotReady before the first swap()."""
        predictor = self._predictor
        if predictor is None:
            raise ModelNotReady()
        return predictor

    def swap(self, new: Predictor) -> Predictor | None:
        """Serve `new` from now on; returns the predictor it replaces, if any."""
        old, self._predictor = self._predictor, new
        for listener in self._listeners:
            listener(new, old)
        return old

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(new, old)` after every swap (from the swapping thread)."""
        self._listeners.append(listener)
