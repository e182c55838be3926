from pathlib import Path

import pytest

from verbatim.models.registry import Registry, RegistryError, new_version


def test_stage_publishes_only_on_success(tmp_path) -> None:
    registry = Registry(tmp_path)
    with pytest.raises(RuntimeError):
        with registry.stage("v1") as directory:
            (directory / "half.bin").write_bytes(b"x")
            raise RuntimeError("crash while writing")
    assert registry.versions() == []
    assert list(registry.staging_dir.iterdir()) == []
    with registry.stage("v2") as directory:
        (directory / "artifact.json").write_text("{}")
    assert registry.versions() == ["v2"]
    assert (registry.path("v2") / "artifact.json").exists()


def test_promote_swaps_champion(tmp_path) -> None:
    registry = Registry(tmp_path)
    assert registry.champion() is None
    for version in ("v1", "v2"):
        with registry.stage(version):
            pass
    registry.promote("v1")
    assert registry.champion() == "v1"
    registry.promote("v2")
    assert registry.champion() == "v2"
    assert registry.champion_path() == tmp_path / "versions" / "v2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".champion")]


def test_unknown_versions_are_refused(tmp_path) -> None:
    registry = Registry(tmp_path)
    with pytest.raises(RegistryError, match="'nope'"):
        registry.promote("nope")
    with registry.stage("v1"):
        pass
    with pytest.raises(RegistryError, match="already exists"):
        with registry.stage("v1"):
            pass


def test_versions_sort_by_time() -> None:
    first, second = new_version("abc"), new_version("abc")
    assert first < second and first.endswith("-abc")


def test_registry_path_flag_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from verbatim.models.registry import registry_path

    monkeypatch.delenv("VERBATIM_REGISTRY", raising=False)
    assert registry_path() == Path("var/registry")
    monkeypatch.setenv("VERBATIM_REGISTRY", str(tmp_path / "env"))
    assert registry_path() == tmp_path / "env"
    assert registry_path(str(tmp_path / "flag")) == tmp_path / "flag"
