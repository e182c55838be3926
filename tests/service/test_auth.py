"""API keys on their own: the key file format, loading from the settings, authenticating metadata."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from verbatim.service.auth import KeyRing, key_line, load_keyring, new_key, parse_keys
from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.service.errors import PermissionDenied, Unauthenticated

KEY = "vbk_test-key-one"


def entry(name: str, secret: str, accounts: object = "*", **extra: object) -> str:
    # The hash computed here, not by the module under test.
    return json.dumps({"name": name, "sha256": hashlib.sha256(secret.encode()).hexdigest(), "accounts": accounts}
                      | extra)


def bearer(key: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {key}")]


def test_a_new_key_is_random_and_its_line_holds_only_its_hash() -> None:
    key, other = new_key(), new_key()
    assert key != other and len(key) >= 40
    line = json.loads(key_line("crm", key, ["acme", "globex"], read_only=True))
    assert line == {"name": "crm", "sha256": hashlib.sha256(key.encode()).hexdigest(),
                    "accounts": ["acme", "globex"], "read_only": True}
    assert key not in json.dumps(line)
    [parsed] = parse_keys(json.dumps(line), "test")
    assert (parsed.name, parsed.accounts, parsed.read_only) == ("crm", frozenset({"acme", "globex"}), True)


def test_the_ring_finds_the_key_the_metadata_carries() -> None:
    ring = KeyRing(parse_keys("\n".join([entry("one", KEY), "# a comment", "", entry("two", "vbk_two", ["acme"])]),
                              "test"))
    assert ring.authenticate(bearer(KEY)).name == "one"
    assert ring.authenticate([("Authorization", "bearer vbk_two")]).name == "two"
    assert ring.authenticate([("x-other", "1"), ("authorization", b"Bearer vbk_two")]).name == "two"


@pytest.mark.parametrize(("metadata", "reason"), [
    (None, "missing"), ([], "missing"), ([("x-api-key", KEY)], "missing"),
    ([("authorization", KEY)], "malformed"), ([("authorization", "Basic abc")], "malformed"),
    ([("authorization", "Bearer ")], "malformed"), (bearer(KEY) + bearer(KEY), "malformed"),
    (bearer("vbk_not-a-known-key"), "unknown"), (bearer(KEY + "x"), "unknown"),
])
def test_a_missing_or_unknown_key_is_unauthenticated(metadata: list[tuple[str, str]] | None, reason: str) -> None:
    ring = KeyRing(parse_keys(entry("one", KEY), "test"))
    with pytest.raises(Unauthenticated) as caught:
        ring.authenticate(metadata)
    assert caught.value.reason == reason
    assert KEY not in str(caught.value)


def test_a_key_may_use_only_its_accounts_and_a_read_only_key_may_not_write() -> None:
    [scoped, reader] = parse_keys("\n".join([entry("scoped", "a", ["acme"]),
                                             entry("reader", "b", "*", read_only=True)]), "test")
    scoped.check(["acme", "acme"], write=True)
    with pytest.raises(PermissionDenied, match="'scoped' may not use account 'globex'") as caught:
        scoped.check(["acme", "globex"], write=False)
    assert caught.value.reason == "account"
    reader.check(["acme", "anything"], write=False)
    with pytest.raises(PermissionDenied, match="read-only") as caught:
        reader.check(["acme"], write=True)
    assert caught.value.reason == "read_only"


@pytest.mark.parametrize(("line", "problem"), [
    ("not json", "line 1: not JSON"),
    ('["a"]', "line 1: expected a JSON object"),
    (entry("", KEY), "line 1: name must not be empty"),
    (entry("k", KEY).replace('"sha256": "', '"sha256": "zz'), "line 1: sha256 must be"),
    (json.dumps({"name": "k", "sha256": KEY, "accounts": "*"}), "never the key itself"),
    (entry("k", KEY, []), 'accounts must be "\\*" or a non-empty list'),
    (entry("k", KEY, "acme"), "accounts must be"),
    (entry("k", KEY, read_only="yes"), "read_only must be true or false"),
    (entry("k", KEY, key="secret"), r"unknown fields \['key'\]"),
    (entry("k", KEY) + "\n" + entry("k", "other"), "key names must be unique"),
])
def test_a_bad_key_line_names_the_source_and_line(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"keys.jsonl.*{problem}"):
        parse_keys(line, "keys.jsonl")


def test_keys_load_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    path.write_text(entry("from-file", KEY) + "\n")
    ring = load_keyring(ServiceConfig(api_keys_file=path, api_keys=entry("from-env", "vbk_env")))
    assert ring is not None and [k.name for k in ring.keys] == ["from-file", "from-env"]
    assert load_keyring(ServiceConfig(insecure_no_auth=True)) is None


def test_without_keys_or_the_insecure_flag_the_server_may_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no API keys configured: set VERBATIM_API_KEYS_FILE.*--insecure-no-auth"):
        load_keyring(ServiceConfig())
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# no keys yet\n")
    with pytest.raises(ConfigError, match="no API keys configured"):
        load_keyring(ServiceConfig(api_keys_file=empty))


def test_an_unreadable_or_bad_key_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="VERBATIM_API_KEYS_FILE is .*missing.jsonl.*cannot read it"):
        load_keyring(ServiceConfig(api_keys_file=tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(entry("ok", KEY) + "\n{oops\n")
    with pytest.raises(ConfigError, match=r"VERBATIM_API_KEYS_FILE \(.*bad.jsonl\) line 2: not JSON"):
        load_keyring(ServiceConfig(api_keys_file=bad))
    with pytest.raises(ConfigError, match="VERBATIM_API_KEYS line 1"):
        load_keyring(ServiceConfig(api_keys="nope"))
    good = tmp_path / "good.jsonl"
    good.write_text(entry("ok", KEY))
    with pytest.raises(ConfigError, match="name the same keys"):
        load_keyring(ServiceConfig(api_keys_file=good, api_keys=entry("ok", "another")))


def test_keys_and_the_insecure_flag_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="VERBATIM_INSECURE_NO_AUTH is set and so are API keys"):
        ServiceConfig.from_sources({"insecure_no_auth": "true"}, env={"VERBATIM_API_KEYS": entry("k", KEY)})
