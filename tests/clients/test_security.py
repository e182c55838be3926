"""The clients send their API key on every call (Client and AsyncClient), and check their TLS files."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from verbatim_client import AsyncClient, Client, VerbatimError
from verbatim_client.security import auth_metadata, tls_credentials

from verbatim.models.predictor import Predictor
from tests.service.harness import Harness, serving

KEY = "vbk_client-test-key"


@pytest.fixture(scope="module")
def keyed(tiny_predictor: Predictor) -> Iterator[Harness]:
    line = json.dumps({"name": "client", "sha256": hashlib.sha256(KEY.encode()).hexdigest(), "accounts": "*"})
    with serving(tiny_predictor, api_keys=line) as harness:
        yield harness


def test_the_blocking_client_sends_its_key(keyed: Harness) -> None:
    target = f"127.0.0.1:{keyed.port}"
    with Client(target, api_key=KEY) as client:
        assert [r.id for r in client.classify(["Slack keeps crashing"])] == ["0"]
        assert client.get_model_info().version
    with Client(target) as client, pytest.raises(VerbatimError) as caught:
        client.classify(["Slack keeps crashing"])
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED and caught.value.attempts == 1


def test_the_async_client_sends_its_key(keyed: Harness) -> None:
    async def go(key: str | None) -> list[str]:
        async with AsyncClient(f"127.0.0.1:{keyed.port}", api_key=key) as client:
            return [r.id for r in await client.classify(["Slack keeps crashing"])]

    assert asyncio.run(go(KEY)) == ["0"]
    with pytest.raises(VerbatimError) as caught:
        asyncio.run(go("vbk_wrong"))
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_bad_keys_and_tls_files_are_refused_before_any_call(tmp_path: Path) -> None:
    assert auth_metadata(None) == ()
    assert auth_metadata(" k ") == (("authorization", "Bearer k"),)
    for bad in ("", "two words"):
        with pytest.raises(ValueError, match="api_key"):
            auth_metadata(bad)
    assert tls_credentials() is None
    with pytest.raises(ValueError, match="ca_file .*missing.pem.*cannot read it"):
        tls_credentials(tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="client_cert and client_key go together"):
        tls_credentials(client_cert=tmp_path / "c.pem")
