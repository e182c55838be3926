"""API keys: who is calling, and which accounts they may use.

A caller sends `authorization: Bearer <key>`. The server knows only SHA-256 hashes of the
keys, from VERBATIM_API_KEYS_FILE and/or VERBATIM_API_KEYS, one JSON object a line:

    {"name": "crm-sync", "sha256": "<64 hex digits>", "accounts": ["acme", "globex"], "read_only": false}

`accounts` is a list of account ids or "*" for every account. SHA-256 rather than a slow
password hash: the keys are 256 random bits from `verbatim keys new`, not something a person
chose, so there is nothing to guess and nothing a slow hash would protect; a slow hash would
instead cost tens of milliseconds of CPU on every RPC, which an unauthenticated caller could
spend for us. The presented key's hash is compared with every known hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.service.errors import PermissionDenied, Unauthenticated
from verbatim.store.names import name_problem

ALL_ACCOUNTS = "*"
KEY_PREFIX = "vbk_"  # makes a leaked key easy to spot (and to grep for) in code and logs
_HEX_DIGITS = 64
NO_KEYS_HELP = ("no API keys configured: set VERBATIM_API_KEYS_FILE (--api-keys-file) to a key file made with "
                "`verbatim keys new`, or VERBATIM_API_KEYS, or pass --insecure-no-auth "
                "(VERBATIM_INSECURE_NO_AUTH=1) to serve every caller without a key (never in production)")


@dataclass(frozen=True)
class ApiKey:
    """One configured key, by its hash. `accounts` is None when it may use every account."""

    name: str
    sha256: bytes
    accounts: frozenset[str] | None
    read_only: bool = False

    def may_use(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts

    def check(self, accounts: Iterable[str], *, write: bool) -> None:
        """PermissionDenied unless this key may use every one of `accounts`, and write when `write`."""
        for account in accounts:
            if not self.may_use(account):
                raise PermissionDenied("account", f"API key {self.name!r} may not use account {account!r}")
        if write and self.read_only:
            raise PermissionDenied("read_only", f"API key {self.name!r} is read-only; this RPC writes")


class KeyRing:
    """The configured keys; `authenticate` turns request metadata into one of them."""

    def __init__(self, keys: Sequence[ApiKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = tuple(keys)

    def authenticate(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> ApiKey:
        """The key the `authorization` metadata carries; Unauthenticated when there is none or it is unknown."""
        values = [v for k, v in (metadata or ()) if k.lower() == "authorization"]
        if not values:
            raise Unauthenticated("missing", "no API key: send metadata `authorization: Bearer <key>`")
        value = values[0] if isinstance(values[0], str) else values[0].decode("utf-8", "replace")
        scheme, _, key = value.strip().partition(" ")
        if len(values) > 1 or scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated("malformed", "malformed authorization metadata: expected one "
                                               "`authorization: Bearer <key>`")
        digest = hash_key(key.strip())
        found: ApiKey | None = None
        for candidate in self.keys:  # every one, with no early exit: the time says nothing about which matched
            if hmac.compare_digest(candidate.sha256, digest):
                found = candidate
        if found is None:
            raise Unauthenticated("unknown", "unknown API key")
        return found


# The key of the RPC being served, set by the AuthInterceptor; None when authentication is off.
_caller: ContextVar[ApiKey | None] = ContextVar("verbatim_caller", default=None)


def caller() -> ApiKey | None:
    """The API key of the RPC this task serves, or None when the server runs without authentication."""
    return _caller.get()


def set_caller(key: ApiKey | None) -> object:
    """Make `key` the caller of the current task; returns a token for reset_caller."""
    return _caller.set(key)


def reset_caller(token: object) -> None:
    _caller.reset(token)  # type: ignore[arg-type]


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def new_key() -> str:
    """A fresh random key: 256 bits, URL-safe, with a recognisable prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_line(name: str, key: str, accounts: Sequence[str] | None, read_only: bool = False) -> str:
    """The key file line for `key` (its hash, never the key); `accounts` None means every account."""
    entry: dict[str, object] = {"name": name, "sha256": hash_key(key).hex(),
                                "accounts": ALL_ACCOUNTS if accounts is None else list(accounts)}
    if read_only:
        entry["read_only"] = True
    return json.dumps(entry)


def parse_keys(text: str, source: str) -> list[ApiKey]:
    """The keys in `text` (JSON lines; blank lines and lines starting with # are skipped).
    ValueError naming `source` and the line for anything wrong."""
    keys: list[ApiKey] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source} line {number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from None
        keys.append(_key_from_entry(entry, where))
    names = [k.name for k in keys]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{source}: key names must be unique; repeated: {repeated}")
    return keys


def _key_from_entry(entry: object, where: str) -> ApiKey:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a JSON object with name, sha256 and accounts")
    unknown = set(entry) - {"name", "sha256", "accounts", "read_only"}
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}; expected name, sha256, accounts, read_only")
    name, digest, accounts, read_only = (entry.get(f) for f in ("name", "sha256", "accounts", "read_only"))
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"{where}: name {problem}")
    if not isinstance(digest, str) or len(digest) != _HEX_DIGITS or not _is_hex(digest):
        raise ValueError(f"{where}: sha256 must be the key's SHA-256 as 64 hex digits (never the key itself)")
    if accounts == ALL_ACCOUNTS:
        scope = None
    elif isinstance(accounts, list) and accounts and all(isinstance(a, str) and a for a in accounts):
        scope = frozenset(accounts)
    else:
        raise ValueError(f'{where}: accounts must be "*" or a non-empty list of account ids')
    if read_only is not None and not isinstance(read_only, bool):
        raise ValueError(f"{where}: read_only must be true or false")
    return ApiKey(name=name, sha256=bytes.fromhex(digest), accounts=scope, read_only=bool(read_only))


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def load_keyring(config: ServiceConfig) -> KeyRing | None:
    """The configured keys, or None when config.insecure_no_auth turns authentication off.

    ConfigError naming the setting for an unreadable or malformed source, and for a server
    with neither keys nor insecure_no_auth (NO_KEYS_HELP says how to fix it).
    """
    if config.insecure_no_auth:
        return None
    keys: list[ApiKey] = []
    if config.api_keys_file is not None:
        path = Path(config.api_keys_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"VERBATIM_API_KEYS_FILE is {str(path)!r}: cannot read it "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
        keys += _parsed(text, f"VERBATIM_API_KEYS_FILE ({path})")
    if config.api_keys is not None:
        keys += _parsed(config.api_keys, "VERBATIM_API_KEYS")
    if not keys:
        raise ConfigError(NO_KEYS_HELP)
    try:
        return KeyRing(_unique(keys))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _parsed(text: str, source: str) -> list[ApiKey]:
    try:
        return parse_keys(text, source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _unique(keys: list[ApiKey]) -> list[ApiKey]:
    names = [k.name for k in keys]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"VERBATIM_API_KEYS_FILE and VERBATIM_API_KEYS name the same keys: {repeated}")
    return keys
