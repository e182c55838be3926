"""The server around the servicer: health, reflection, start-up and graceful stop."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from verbatim.models.predictor import Predictor
from verbatim.service.server import ServerStartError, VerbatimServer
from verbatim.service.servicer import SERVICE_NAME
from tests.service.harness import (Harness, RecordingPredictor, classify, comment, config, health_of, rpc_error,
                                   serving, wait_until)
from verbatim.v1 import verbatim_pb2 as pb


def test_health_is_not_serving_until_a_model_is_loaded(tiny_predictor: Predictor) -> None:
    with serving(None) as h:
        for service in ("", SERVICE_NAME):
            assert health_of(h, service) == health_pb2.HealthCheckResponse.NOT_SERVING
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("a", "hi")), timeout=5))
        assert error.code() == grpc.StatusCode.UNAVAILABLE and "no model is loaded" in error.details()
        assert rpc_error(lambda: h.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=5)).code() == \
            grpc.StatusCode.UNAVAILABLE

        h.server.slot.swap(tiny_predictor)  # from another thread, as a loader would
        for service in ("", SERVICE_NAME):
            wait_until(lambda s=service: health_of(h, s) == health_pb2.HealthCheckResponse.SERVING)
        assert h.stub.ClassifyComments(classify(comment("a", "hi")), timeout=5).model_version == \
            tiny_predictor.version


def test_reflection_lists_the_services(server: Harness) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME)]
    listed, described = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {"verbatim.v1.Verbatim", "grpc.health.v1.Health"} <= names
    assert described.file_descriptor_response.file_descriptor_proto  # clients can discover the schema


def test_stop_lets_in_flight_requests_finish_and_refuses_new_ones(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=0.5)
    h = Harness(config(), slow)
    try:
        in_flight = h.stub.ClassifyComments.future(classify(comment("a", "first")), timeout=10)
        assert slow.started.wait(5)
        stopping = h.submit(h.server.stop(grace=5))
        wait_until(lambda: health_of(h) != health_pb2.HealthCheckResponse.SERVING)
        assert in_flight.result().comments[0].id == "a"
        stopping.result(timeout=10)
        assert h.server.batcher.depth == 0
        with pytest.raises(grpc.RpcError):
            h.stub.ClassifyComments(classify(comment("b", "late")), timeout=2)
    finally:
        h.channel.close()
        h.loop.call_soon_threadsafe(h.loop.stop)
        h.thread.join(timeout=10)
        h.loop.close()


def test_a_taken_port_fails_to_start(server: Harness) -> None:
    other = VerbatimServer(config(port=server.port))
    with pytest.raises(ServerStartError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        server.call(other.start())
