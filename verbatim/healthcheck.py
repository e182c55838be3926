"""`python -m verbatim.healthcheck`: exit 0 if the local server answers gRPC health SERVING, else 1.

The container's HEALTHCHECK runs it (Docker reads 0 as healthy, 1 as unhealthy). It asks the
server on this machine, at the port `verbatim serve` would use (VERBATIM_PORT, or the default
owned by ServiceConfig), so it needs no flags inside the image. Kubernetes probes gRPC health
natively and does not need it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

HEALTHY, UNHEALTHY = 0, 1
# A server listening on every address is asked on loopback.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}


def default_target() -> str:
    """host:port of the local `verbatim serve`, from the same settings the server reads."""
    from verbatim.service.config import ServiceConfig

    config = ServiceConfig.from_sources({})
    host = _LOOPBACK.get(config.host, config.host)
    return f"[{host}]:{config.port}" if ":" in host else f"{host}:{config.port}"


def check(target: str, service: str = "", timeout_s: float = 3.0) -> bool:
    """True if `target` answers Health.Check(`service`) with SERVING within `timeout_s`; over TLS when
    VERBATIM_CA_FILE is set (with VERBATIM_CLIENT_CERT and VERBATIM_CLIENT_KEY for an mTLS server)."""
    credentials = _tls_credentials()
    channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
    with channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as exc:
            print(f"verbatim healthcheck: {target}: {exc.code().name}", file=sys.stderr)
            return False
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        print(f"verbatim healthcheck: {target}: {status}", file=sys.stderr)
        return False
    return True


def _tls_credentials() -> grpc.ChannelCredentials | None:
    files = {name: os.environ.get(f"VERBATIM_{name.upper()}") for name in ("ca_file", "client_cert", "client_key")}
    if not files["ca_file"]:
        return None
    data = {name: Path(path).read_bytes() if path else None for name, path in files.items()}
    return grpc.ssl_channel_credentials(data["ca_file"], data["client_key"], data["client_cert"])


def main(argv: list[str] | None = None) -> int:
    """Parse flags, check once, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m verbatim.healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--target", help="host:port (default: loopback at VERBATIM_PORT, else 50051)")
    parser.add_argument("--service", default="", help="service name to ask about (default: the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    return HEALTHY if check(args.target or default_target(), args.service, args.timeout) else UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
