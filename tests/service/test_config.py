from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from verbatim.service.config import ConfigError, ServiceConfig
from verbatim import cli


def test_defaults_match_the_documented_values() -> None:
    config = ServiceConfig.from_sources({}, env={})
    assert config == ServiceConfig()
    assert (config.host, config.port, config.registry) == ("127.0.0.1", 50051, Path("var/registry"))
    assert (config.max_batch_comments, config.max_batch_tokens, config.max_delay_ms) == (64, 8192, 5.0)
    assert (config.queue_capacity, config.max_comments_per_request, config.max_text_chars) == (2048, 256, 5000)
    assert (config.grace_s, config.threads) == (10.0, 0)
    assert config.torch_threads >= 1


def test_env_overrides_defaults_and_flags_override_env() -> None:
    env = {"VERBATIM_PORT": "6000", "VERBATIM_MAX_DELAY_MS": "2.5", "VERBATIM_REGISTRY": "/srv/reg",
           "VERBATIM_HOST": "0.0.0.0", "UNRELATED": "x"}
    config = ServiceConfig.from_sources({"port": "7000", "threads": None}, env=env)
    assert config.port == 7000  # flag wins
    assert config.max_delay_ms == 2.5 and config.max_delay_s == 0.0025  # env wins over default
    assert config.registry == Path("/srv/reg")
    assert config.address == "0.0.0.0:7000"
    assert config.threads == 0  # flag given as None means "not given"


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServiceConfig().port = 1  # type: ignore[misc]


@pytest.mark.parametrize(("env", "expected"), [
    ({"VERBATIM_PORT": "abc"}, "VERBATIM_PORT is 'abc': expected an integer"),
    ({"VERBATIM_PORT": "70000"}, "VERBATIM_PORT is '70000': expected an integer between 0 and 65535"),
    ({"VERBATIM_MAX_BATCH_COMMENTS": "0"}, "VERBATIM_MAX_BATCH_COMMENTS is '0': expected an integer between 1"),
    ({"VERBATIM_MAX_BATCH_TOKENS": "1.5"}, "VERBATIM_MAX_BATCH_TOKENS is '1.5': expected an integer"),
    ({"VERBATIM_MAX_DELAY_MS": "-1"}, "VERBATIM_MAX_DELAY_MS is '-1': expected a number of milliseconds"),
    ({"VERBATIM_MAX_DELAY_MS": "nan"}, "VERBATIM_MAX_DELAY_MS is 'nan': expected a number of milliseconds"),
    ({"VERBATIM_QUEUE_CAPACITY": ""}, "VERBATIM_QUEUE_CAPACITY is '': expected an integer"),
    ({"VERBATIM_MAX_TEXT_CHARS": "-5"}, "VERBATIM_MAX_TEXT_CHARS is '-5'"),
    ({"VERBATIM_GRACE_S": "soon"}, "VERBATIM_GRACE_S is 'soon': expected a number of seconds"),
    ({"VERBATIM_THREADS": "-1"}, "VERBATIM_THREADS is '-1': expected an integer between 0 and 1024"),
    ({"VERBATIM_HOST": "  "}, "VERBATIM_HOST is '  ': expected a host name or IP address"),
    ({"VERBATIM_REGISTRY": ""}, "VERBATIM_REGISTRY is '': expected a directory path"),
])
def test_a_bad_env_value_names_the_key_the_value_and_the_expectation(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        ServiceConfig.from_sources({}, env=env)
    assert expected in str(info.value)


def test_a_bad_flag_is_reported_under_the_flag_name() -> None:
    with pytest.raises(ConfigError, match=r"--max-comments-per-request is 'lots': expected an integer"):
        ServiceConfig.from_sources({"max_comments_per_request": "lots"}, env={"VERBATIM_MAX_COMMENTS_PER_REQUEST": "9"})


def test_queue_must_hold_one_maximal_request() -> None:
    with pytest.raises(ConfigError, match="VERBATIM_QUEUE_CAPACITY is 10: expected at least "
                                          r"VERBATIM_MAX_COMMENTS_PER_REQUEST \(20\)"):
        ServiceConfig.from_sources({}, env={"VERBATIM_QUEUE_CAPACITY": "10",
                                            "VERBATIM_MAX_COMMENTS_PER_REQUEST": "20"})


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="VERBATIM_PORT is -1"):
        ServiceConfig(port=-1)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown settings \\['prot'\\]"):
        ServiceConfig.from_sources({"prot": "1"}, env={})


def test_serve_prints_the_config_error_and_exits_2(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBATIM_MAX_BATCH_TOKENS", "many")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "VERBATIM_MAX_BATCH_TOKENS is 'many': expected an integer" in err
    assert "Traceback" not in err
    monkeypatch.delenv("VERBATIM_MAX_BATCH_TOKENS")
    assert cli.main(["serve", "--port", "x1"]) == 2
    assert "--port is 'x1'" in capsys.readouterr().err


def test_new_settings_are_checked_at_start_up() -> None:
    from verbatim.service.config import ConfigError, ServiceConfig

    with pytest.raises(ConfigError, match="VERBATIM_BACKEND is 'tensorflow': expected one of torch, onnx"):
        ServiceConfig.from_sources(env={"VERBATIM_BACKEND": "tensorflow"})
    with pytest.raises(ConfigError, match="VERBATIM_BACKEND"):
        ServiceConfig(backend="tensorflow")
    with pytest.raises(ConfigError, match="VERBATIM_RELOAD_S is '-1'"):
        ServiceConfig.from_sources(env={"VERBATIM_RELOAD_S": "-1"})
    config = ServiceConfig.from_sources(env={"VERBATIM_STORE_URL": "sqlite:////tmp/x.db", "VERBATIM_METRICS_PORT": "0"})
    assert config.store_url == "sqlite:////tmp/x.db" and config.metrics_port == 0


def test_security_settings_default_to_no_keys_no_tls_and_64_requests_per_key() -> None:
    config = ServiceConfig.from_sources({}, env={})
    assert (config.api_keys_file, config.api_keys, config.insecure_no_auth) == (None, None, False)
    assert (config.tls_cert, config.tls_key, config.tls_client_ca) == (None, None, None)
    assert config.max_concurrent_per_key == 64


@pytest.mark.parametrize(("env", "expected"), [
    ({"VERBATIM_TLS_CERT": "s.crt"}, "VERBATIM_TLS_CERT is set but VERBATIM_TLS_KEY is not"),
    ({"VERBATIM_TLS_KEY": "s.key"}, "VERBATIM_TLS_KEY is set but VERBATIM_TLS_CERT is not"),
    ({"VERBATIM_TLS_CLIENT_CA": "ca.crt"}, "VERBATIM_TLS_CLIENT_CA is set without VERBATIM_TLS_CERT"),
    ({"VERBATIM_MAX_CONCURRENT_PER_KEY": "0"}, "VERBATIM_MAX_CONCURRENT_PER_KEY is '0': expected an integer"),
    ({"VERBATIM_INSECURE_NO_AUTH": "maybe"}, "VERBATIM_INSECURE_NO_AUTH is 'maybe': expected true or false"),
    ({"VERBATIM_API_KEYS_FILE": " "}, "VERBATIM_API_KEYS_FILE"),
])
def test_bad_security_settings_name_the_key(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        ServiceConfig.from_sources({}, env=env)


def test_insecure_no_auth_is_a_bare_flag_of_serve() -> None:
    args = cli.build_parser().parse_args(["serve", "--insecure-no-auth"])
    assert ServiceConfig.from_sources({"insecure_no_auth": args.insecure_no_auth}, env={}).insecure_no_auth
    assert ServiceConfig.from_sources({}, env={"VERBATIM_INSECURE_NO_AUTH": "1"}).insecure_no_auth


def test_serve_without_keys_stops_with_one_line_saying_how_to_fix_it(capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VERBATIM_API_KEYS", "VERBATIM_API_KEYS_FILE", "VERBATIM_INSECURE_NO_AUTH"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["serve"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("verbatim: error: no API keys configured: set VERBATIM_API_KEYS_FILE")
    assert "--insecure-no-auth" in line
