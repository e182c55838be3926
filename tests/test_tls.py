"""TLS and mTLS end to end, with a CA and certificates made at test time: a TLS client with the CA
and a key is served; a plaintext client, a client without a certificate and one whose certificate
an unknown CA signed are refused; a missing certificate file stops `verbatim serve` at start-up."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from verbatim_client import Client, VerbatimError

from verbatim.models.predictor import Predictor
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc
from tests.serve_process import verbatim_command
from tests.service.harness import Harness, serving

KEY = "vbk_tls-test-key"
KEYS = json.dumps({"name": "tls", "sha256": hashlib.sha256(KEY.encode()).hexdigest(), "accounts": "*"})


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _issue(directory: Path, name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
           *, ca: bool = False, server: bool = False) -> tuple[Pem, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    signer_cert, signer_key = issuer if issuer else (None, key)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(signer_cert.subject if signer_cert else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(signer_key, hashes.SHA256())
    pem = Pem(directory / f"{name}.crt", directory / f"{name}.key")
    pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return pem, cert, key


@dataclass(frozen=True)
class Pki:
    ca: Pem
    server: Pem
    client: Pem
    rogue_client: Pem  # signed by a CA the server does not trust


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca, ca_cert, ca_key = _issue(d, "ca", None, ca=True)
    _, rogue_cert, rogue_key = _issue(d, "rogue-ca", None, ca=True)
    return Pki(ca=ca, server=_issue(d, "server", (ca_cert, ca_key), server=True)[0],
               client=_issue(d, "client", (ca_cert, ca_key))[0],
               rogue_client=_issue(d, "rogue-client", (rogue_cert, rogue_key))[0])


@pytest.fixture(scope="module")
def tls_server(tiny_predictor: Predictor, pki: Pki) -> Iterator[Harness]:
    with serving(tiny_predictor, api_keys=KEYS, tls_cert=pki.server.cert, tls_key=pki.server.key) as harness:
        yield harness


@pytest.fixture(scope="module")
def mtls_server(tiny_predictor: Predictor, pki: Pki) -> Iterator[Harness]:
    with serving(tiny_predictor, api_keys=KEYS, tls_cert=pki.server.cert, tls_key=pki.server.key,
                 tls_client_ca=pki.ca.cert) as harness:
        yield harness


def _classified(target: str, **client: object) -> list[str]:
    with Client(target, timeout=10, api_key=KEY, **client) as c:  # type: ignore[arg-type]
        return [r.id for r in c.classify(["The Slack integration keeps crashing"])]


def test_a_tls_client_with_the_ca_and_a_key_is_served(tls_server: Harness, pki: Pki) -> None:
    assert _classified(f"localhost:{tls_server.port}", ca_file=pki.ca.cert) == ["0"]


def test_a_plaintext_client_is_refused(tls_server: Harness) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{tls_server.port}") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            pb_grpc.VerbatimStub(channel).GetModelInfo(pb.GetModelInfoRequest(), timeout=5,
                                                       metadata=(("authorization", f"Bearer {KEY}"),))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_that_does_not_trust_the_servers_ca_refuses_it(tls_server: Harness, pki: Pki) -> None:
    with pytest.raises(VerbatimError) as caught:
        _classified(f"localhost:{tls_server.port}", ca_file=pki.rogue_client.cert)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_mtls_serves_a_client_whose_certificate_the_ca_signed(mtls_server: Harness, pki: Pki) -> None:
    assert _classified(f"localhost:{mtls_server.port}", ca_file=pki.ca.cert, client_cert=pki.client.cert,
                       client_key=pki.client.key) == ["0"]


@pytest.mark.parametrize("who", ["no certificate", "untrusted certificate"])
def test_mtls_refuses_a_client_without_a_trusted_certificate(mtls_server: Harness, pki: Pki, who: str) -> None:
    client = {} if who == "no certificate" else {"client_cert": pki.rogue_client.cert,
                                                 "client_key": pki.rogue_client.key}
    with pytest.raises(VerbatimError) as caught:
        _classified(f"localhost:{mtls_server.port}", ca_file=pki.ca.cert, **client)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_a_missing_certificate_stops_serve_at_start_up_naming_the_setting(tmp_path: Path, pki: Pki) -> None:
    done = subprocess.run([*verbatim_command(), "serve", "--insecure-no-auth", "--tls-cert",
                           str(tmp_path / "missing.crt"), "--tls-key", str(pki.server.key)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"verbatim: error: VERBATIM_TLS_CERT is {str(tmp_path / 'missing.crt')!r}: cannot read it "
        "(No such file or directory)"]
