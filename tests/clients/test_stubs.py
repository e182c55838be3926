"""The client's stubs live in verbatim_client._stubs and coexist with the server's verbatim.v1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
SERVER_STUBS = "import verbatim.v1.verbatim_pb2 as server\n"
CLIENT_STUBS = "import verbatim_client._stubs.verbatim_pb2 as client, verbatim_client._stubs.verbatim_pb2_grpc as g\n"
CHECK = ("message = client.Comment(id='1', text='hi', score=3)\n"
         "print(server.Comment.FromString(message.SerializeToString()).text)\n"
         "print(g.verbatim_dot_v1_dot_verbatim__pb2.__name__, client.DESCRIPTOR.name)\n")


@pytest.mark.parametrize("imports", [SERVER_STUBS + CLIENT_STUBS, CLIENT_STUBS + SERVER_STUBS],
                         ids=["server-first", "client-first"])
def test_both_copies_of_the_stubs_import_in_one_process_and_interoperate(imports: str) -> None:
    # A fresh process: the same proto file is registered in protobuf's default pool twice.
    done = subprocess.run([sys.executable, "-c", imports + CHECK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["hi", "verbatim_client._stubs.verbatim_pb2 verbatim/v1/verbatim.proto"]


def test_the_client_never_imports_the_server_package() -> None:
    for path in (CLIENT / "verbatim_client").rglob("*.py"):
        text = path.read_text()
        assert "from verbatim." not in text and "import verbatim." not in text, path
