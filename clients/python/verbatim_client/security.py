"""What a caller presents to the server: an API key (`authorization: Bearer <key>` on every call)
and, for a TLS port, the CA that signed the server's certificate and optionally a client
certificate (mTLS)."""

from __future__ import annotations

from pathlib import Path

import grpc

Metadata = tuple[tuple[str, str], ...]


def auth_metadata(api_key: str | None) -> Metadata:
    """The call metadata that carries `api_key`; empty without one."""
    if api_key is None:
        return ()
    key = api_key.strip()
    if not key or any(c.isspace() for c in key):
        raise ValueError("api_key must be a non-empty string without whitespace")
    return (("authorization", f"Bearer {key}"),)


def tls_credentials(ca_file: str | Path | None = None, client_cert: str | Path | None = None,
                    client_key: str | Path | None = None) -> grpc.ChannelCredentials | None:
    """Channel credentials for a TLS server, or None when none of the files is given (plaintext).

    `ca_file`: PEM of the CA that signed the server's certificate (default: the system's roots).
    `client_cert` and `client_key`: this caller's certificate and key, for a server that requires one.
    """
    if ca_file is None and client_cert is None and client_key is None:
        return None
    if (client_cert is None) != (client_key is None):
        raise ValueError("client_cert and client_key go together: give both or neither")
    return grpc.ssl_channel_credentials(root_certificates=_read(ca_file, "ca_file"),
                                        private_key=_read(client_key, "client_key"),
                                        certificate_chain=_read(client_cert, "client_cert"))


def _read(path: str | Path | None, name: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{name} {str(path)!r}: cannot read it ({exc.strerror or exc})") from None
