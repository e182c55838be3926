"""The server's TLS credentials, from VERBATIM_TLS_CERT, VERBATIM_TLS_KEY and VERBATIM_TLS_CLIENT_CA.

With a certificate and key the port speaks TLS only; with a client CA as well, every caller
must present a certificate that CA signed (mTLS), health checks included. Files are read
once, at start-up, and a missing, unreadable or non-PEM one raises ConfigError naming its key.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from verbatim.service.config import ConfigError, ServiceConfig


def server_credentials(config: ServiceConfig) -> grpc.ServerCredentials | None:
    """The port's credentials, or None for plaintext (no certificate configured)."""
    if config.tls_cert is None or config.tls_key is None:
        return None
    cert = read_pem(config.tls_cert, "VERBATIM_TLS_CERT")
    key = read_pem(config.tls_key, "VERBATIM_TLS_KEY")
    client_ca = read_pem(config.tls_client_ca, "VERBATIM_TLS_CLIENT_CA") if config.tls_client_ca else None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


def read_pem(path: Path, setting: str) -> bytes:
    """The bytes of a PEM file; ConfigError naming `setting` when it cannot be read or is not PEM."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting} is {str(path)!r}: cannot read it ({exc.strerror or exc})") from None
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{setting} is {str(path)!r}: not a PEM file (no -----BEGIN line)")
    return data
