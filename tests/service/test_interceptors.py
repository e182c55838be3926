from __future__ import annotations

import grpc
import pytest

from verbatim.service.errors import (DeadlineExpired, InvalidArgument, ModelNotReady, QueueFull, ServiceError, ShuttingDown,
                            Unimplemented)
from verbatim.service.interceptors import status_code


@pytest.mark.parametrize(("error", "code"), [
    (InvalidArgument("comments[0].text", "must not be empty"), grpc.StatusCode.INVALID_ARGUMENT),
    (QueueFull(3, 1, 10), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (DeadlineExpired(), grpc.StatusCode.DEADLINE_EXCEEDED),
    (ModelNotReady(), grpc.StatusCode.UNAVAILABLE),
    (ShuttingDown(), grpc.StatusCode.UNAVAILABLE),
    (Unimplemented("PutTags"), grpc.StatusCode.UNIMPLEMENTED),
])
def test_each_domain_error_has_its_status(error: ServiceError, code: grpc.StatusCode) -> None:
    assert status_code(error) == code


def test_a_subclass_inherits_its_parents_status_and_an_unmapped_error_is_internal() -> None:
    class TooLong(InvalidArgument):
        pass

    class Unmapped(ServiceError):
        pass

    assert status_code(TooLong("comments[0].text", "too long")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_code(Unmapped("?")) == grpc.StatusCode.INTERNAL


def test_messages_name_what_the_caller_needs() -> None:
    assert str(InvalidArgument("comments[3].text", "5200 characters, the limit is 5000")) == \
        "comments[3].text: 5200 characters, the limit is 5000"
    assert "3 comments do not fit in the queue (1 of 10 free)" in str(QueueFull(3, 1, 10))
