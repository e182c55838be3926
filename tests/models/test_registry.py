from pathlib import Path

import pytest

from verbatim.models.registry import HISTORY_FILE, ChampionChanged, Registry, RegistryError, new_version


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


def _registry(tmp_path: Path, *versions: str) -> Registry:
    registry = Registry(tmp_path)
    for version in versions:
        with registry.stage(version):
            pass
    return registry


def test_a_corrupt_history_refuses_the_promotion_and_leaves_the_champion(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "v1", "v2")
    registry.promote("v1")
    (tmp_path / HISTORY_FILE).write_text("[{not json")
    with pytest.raises(ValueError):
        registry.promote("v2")
    assert registry.champion() == "v1"


def test_rollback_after_a_rollback_that_crashed_before_its_record_goes_further_back(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "v1", "v2", "v3")
    for version in ("v1", "v2", "v3"):
        registry.promote(version)
    (tmp_path / "champion").write_text("v2\n")  # the swap of a rollback whose history write never happened
    assert registry.rollback() == "v1"
    assert registry.champion() == "v1"


def test_rollback_after_promoting_an_earlier_version_again_returns_to_the_one_before(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "v1", "v2")
    for version in ("v1", "v2", "v1"):
        registry.promote(version)
    assert registry.rollback() == "v2"


def test_promote_with_an_expected_champion_is_a_compare_and_swap(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "v1", "v2", "v3")
    registry.promote("v1", expected=None)
    registry.promote("v2")  # someone else, meanwhile
    with pytest.raises(ChampionChanged, match="v2"):
        registry.promote("v3", expected="v1")
    assert registry.champion() == "v2"
    assert [e["version"] for e in registry.history()] == ["v1", "v2"]


def test_remove_leftovers_deletes_a_dead_writers_staging_and_temp_files_but_not_a_live_ones(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    dead = registry.staging_dir / "v1.abc"  # what a writer killed mid-stage leaves
    dead.mkdir(parents=True)
    (dead / "encoder.safetensors").write_bytes(b"half")
    (tmp_path / ".champion.x1.tmp").write_text("v1")
    with registry.stage("v2") as live:
        (live / "artifact.json").write_text("{}")
        registry.remove_leftovers()
        assert live.exists() and (live / "artifact.json").exists()
    assert not dead.exists() and not list(tmp_path.glob(".*.tmp"))
    assert registry.versions() == ["v2"]
