"""Server settings: read once from CLI flags and VERBATIM_* environment variables.

A flag beats its environment variable, which beats the default. Every value is checked
at start-up, and a bad one raises ConfigError naming the key, the value and what was
expected, so a typo in a deployment manifest fails loudly instead of at the first request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from verbatim.models.backend_names import BACKENDS, DEFAULT_BACKEND
from verbatim.models.device import DEFAULT_DEVICE, DEVICES, check_device
from verbatim.models.registry import DEFAULT_REGISTRY
from verbatim.store.engine import DEFAULT_STORE_URL

ENV_PREFIX = "VERBATIM_"


class ConfigError(ValueError):
    """A setting with a value the server cannot use; the message names the key."""


@dataclass(frozen=True)
class ServiceConfig:
    """Every server setting. Field `name` is read from env VERBATIM_NAME and flag --name."""

    host: str = "127.0.0.1"
    port: int = 50051  # 0 picks a free port
    registry: Path = DEFAULT_REGISTRY
    max_batch_comments: int = 64
    max_batch_tokens: int = 8192  # padded: batch size x longest comment, in tokens
    max_delay_ms: float = 5.0
    queue_capacity: int = 2048  # comments waiting for a batch, over all requests
    max_concurrent_rpcs: int = 1000  # RPCs in progress (health included); beyond it RESOURCE_EXHAUSTED; 0: none
    max_comments_per_request: int = 256
    max_text_chars: int = 5000
    max_corrections_per_request: int = 256
    max_tags_per_account: int = 500  # PutTags refuses a change that would leave an account with more
    max_keywords_per_tag: int = 100
    max_message_bytes: int = 8 << 20  # largest request message; beyond it INVALID_ARGUMENT naming this setting
    log_comment_text: bool = False  # debug log lines may quote comment text; never on by default
    grace_s: float = 10.0
    threads: int = 0  # torch intra-op threads; 0: every core
    store_url: str = DEFAULT_STORE_URL
    reload_s: float = 10.0  # how often to look for a new champion; 0 turns reloading off
    # Prometheus /metrics; 0 picks a free port. Not 9100 (node_exporter's) nor any port of 9100-9999, which
    # Prometheus' default-port list has given out to exporters: the gRPC port's neighbour (README "Metrics").
    metrics_port: int = 50052
    backend: str = DEFAULT_BACKEND
    device: str = DEFAULT_DEVICE  # the torch backend's: auto (CUDA when present), cpu, cuda, cuda:N
    retrain_after: int = 0  # start the quick retrain after this many new corrections; 0: never
    retrain_every_s: float = 0.0  # and/or every this many seconds; 0: never
    # Security (README "Security"). Without keys, `verbatim serve` refuses to start unless insecure_no_auth.
    api_keys_file: Path | None = None  # JSON lines of hashed keys: name, sha256, accounts, read_only
    api_keys: str | None = None  # the same lines, in the environment (e.g. from a Kubernetes Secret)
    insecure_no_auth: bool = False  # serve every RPC without a key: only for a laptop or a test
    max_concurrent_per_key: int = 64  # RPCs in flight per API key; beyond it RESOURCE_EXHAUSTED
    tls_cert: Path | None = None  # PEM certificate chain of the server; with tls_key, the port speaks TLS only
    tls_key: Path | None = None  # PEM private key of tls_cert
    tls_client_ca: Path | None = None  # PEM CA bundle: callers must present a certificate it signed (mTLS)

    def __post_init__(self) -> None:
        for f in fields(self):
            spec = _SPECS[f.name]
            value = getattr(self, f.name)
            problem = spec.check(value)
            if problem:
                raise ConfigError(f"{spec.env} is {value!r}: expected {problem}")
        if self.queue_capacity < self.max_comments_per_request:
            raise ConfigError(
                f"VERBATIM_QUEUE_CAPACITY is {self.queue_capacity}: expected at least "
                f"VERBATIM_MAX_COMMENTS_PER_REQUEST ({self.max_comments_per_request}), "
                "or a request of the maximum size could never be queued")
        if self.backend != "torch" and self.device.strip().lower().startswith("cuda"):
            raise ConfigError(
                f"VERBATIM_DEVICE is {self.device!r}: expected cpu or auto with VERBATIM_BACKEND={self.backend} "
                "(it runs on the CPU); set VERBATIM_BACKEND=torch to serve on the GPU")

        if (self.tls_cert is None) != (self.tls_key is None):
            given, missing = ("VERBATIM_TLS_CERT", "VERBATIM_TLS_KEY") if self.tls_key is None \
                else ("VERBATIM_TLS_KEY", "VERBATIM_TLS_CERT")
            raise ConfigError(f"{given} is set but {missing} is not: TLS needs both the certificate and its key")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ConfigError("VERBATIM_TLS_CLIENT_CA is set without VERBATIM_TLS_CERT and VERBATIM_TLS_KEY: "
                              "client certificates are checked only on a TLS port")
        if self.insecure_no_auth and (self.api_keys_file is not None or self.api_keys is not None):
            raise ConfigError("VERBATIM_INSECURE_NO_AUTH is set and so are API keys (VERBATIM_API_KEYS_FILE or "
                              "VERBATIM_API_KEYS): choose one")

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def max_delay_s(self) -> float:
        return self.max_delay_ms / 1000

    @property
    def torch_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    @classmethod
    def from_sources(cls, flags: Mapping[str, str | None] | None = None,
                     env: Mapping[str, str] | None = None) -> "ServiceConfig":
        """Build from flag values (field name -> raw string, None when not given) and env."""
        flags = flags or {}
        env = os.environ if env is None else env
        unknown = set(flags) - set(_SPECS)
        if unknown:
            raise ConfigError(f"unknown settings {sorted(unknown)}; known: {sorted(_SPECS)}")
        values: dict[str, Any] = {}
        for name, spec in _SPECS.items():
            raw, source = flags.get(name), spec.flag
            if raw is None:
                raw, source = env.get(spec.env), spec.env
            if raw is None:
                continue
            try:
                values[name] = spec.parse(raw.strip())
            except ValueError:
                raise ConfigError(f"{source} is {raw!r}: expected {spec.expected}") from None
            problem = spec.check(values[name])
            if problem:
                raise ConfigError(f"{source} is {raw!r}: expected {problem}")
        return cls(**values)


@dataclass(frozen=True)
class _Spec:
    name: str
    parse: Callable[[str], Any]
    expected: str  # what parse() accepts, for the error message
    low: float | None = None
    high: float | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> str | None:
        """None when the value is in range, else what was expected."""
        if value is None:  # an optional setting left unset
            return None
        if isinstance(value, str | Path):
            if not str(value).strip():
                return "a non-empty value"
            try:
                self.parse(str(value))
            except ValueError:
                return self.expected
            return None
        if isinstance(value, bool):
            return None if self.parse is _boolean else self.expected
        if not isinstance(value, int | float):
            return self.expected
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.expected}, finite"
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            if self.high is None:
                return f"{self.expected} >= {self.low:g}"
            return f"{self.expected} between {self.low:g} and {self.high:g}"
        return None


def _nonempty(raw: str) -> str:
    if not raw:
        raise ValueError(raw)
    return raw


def _path(raw: str) -> Path:
    return Path(_nonempty(raw))


def _backend(raw: str) -> str:
    if raw not in BACKENDS:
        raise ValueError(raw)
    return raw


def _device(raw: str) -> str:
    return check_device(raw)  # DeviceError is a ValueError


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


_SPECS: dict[str, _Spec] = {s.name: s for s in (
    _Spec("host", _nonempty, "a host name or IP address"),
    _Spec("port", int, "an integer", 0, 65535),
    _Spec("registry", _path, "a directory path"),
    _Spec("max_batch_comments", int, "an integer", 1, 4096),
    _Spec("max_batch_tokens", int, "an integer", 1, 10_000_000),
    _Spec("max_delay_ms", _float, "a number of milliseconds", 0, 10_000),
    _Spec("queue_capacity", int, "an integer", 1, 10_000_000),
    _Spec("max_concurrent_rpcs", int, "an integer (0: no bound)", 0, 10_000_000),
    _Spec("max_comments_per_request", int, "an integer", 1, 100_000),
    _Spec("max_text_chars", int, "an integer", 1, 1_000_000),
    _Spec("max_corrections_per_request", int, "an integer", 1, 100_000),
    _Spec("max_tags_per_account", int, "an integer", 1, 100_000),
    _Spec("max_keywords_per_tag", int, "an integer", 0, 10_000),
    _Spec("max_message_bytes", int, "an integer number of bytes", 1024, 2**31 - 1),
    _Spec("log_comment_text", _boolean, "true or false"),
    _Spec("grace_s", _float, "a number of seconds", 0, 3600),
    _Spec("threads", int, "an integer", 0, 1024),
    _Spec("store_url", _nonempty, f"an SQLAlchemy URL, e.g. {DEFAULT_STORE_URL} or postgresql+psycopg://..."),
    _Spec("reload_s", _float, "a number of seconds", 0, 86_400),
    _Spec("metrics_port", int, "an integer", 0, 65535),
    _Spec("backend", _backend, "one of " + ", ".join(BACKENDS)),
    _Spec("device", _device, DEVICES),
    _Spec("retrain_after", int, "an integer number of corrections", 0, 10_000_000),
    _Spec("retrain_every_s", _float, "a number of seconds", 0, 31_536_000),
    _Spec("api_keys_file", _path, "a file path"),
    _Spec("api_keys", _nonempty, "lines of hashed API keys (README, Security)"),
    _Spec("insecure_no_auth", _boolean, "true or false"),
    _Spec("max_concurrent_per_key", int, "an integer", 1, 1_000_000),
    _Spec("tls_cert", _path, "a PEM file path"),
    _Spec("tls_key", _path, "a PEM file path"),
    _Spec("tls_client_ca", _path, "a PEM file path"),
)}
