"""The wheel built from a clean tree: one `verbatim` namespace, the generated stubs inside,
the runtime's dependencies right, and it imports and starts from anywhere without `make`."""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _clean_tree(dest: Path) -> Path:
    """The files a clone would have (tracked and new, never ignored ones such as generated stubs)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    assert not list(dest.glob("verbatim/v1/*_pb2*.py")), "a clean tree has no generated stubs"
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = _clean_tree(tmp_path_factory.mktemp("tree"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(tree)], check=True, capture_output=True, timeout=300)
    (built,) = out.glob("verbatim-*.whl")
    return built


def test_everything_installs_under_the_verbatim_namespace_with_the_stubs(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"verbatim", "verbatim-0.1.0.dist-info"}
    for module in ("v1/verbatim_pb2.py", "v1/verbatim_pb2_grpc.py", "v1/verbatim_pb2.pyi", "cli.py",
                   "models/registry.py", "service/server.py", "store/store.py", "training/retrain.py",
                   "bench/corrections.py", "training/data/train.jsonl", "training/data/DATA_CARD.md"):
        assert f"verbatim/{module}" in names, module
    assert not any(name.startswith("verbatim/training/bench") for name in names), "benchmarks live in bench/"


def test_runtime_dependencies(wheel: Path) -> None:
    metadata = email.parser.Parser().parsestr(
        zipfile.ZipFile(wheel).read("verbatim-0.1.0.dist-info/METADATA").decode())
    requires = metadata.get_all("Requires-Dist")
    core = {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requires if "extra ==" not in r}
    assert {"onnxruntime", "torch", "grpcio"} <= core
    assert "grpcio-tools" not in core and "scikit-learn" not in core
    assert any(r.startswith("scikit-learn") and 'extra == "bench"' in r for r in requires)


def test_the_installed_wheel_imports_and_starts_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = os.environ | {"PYTHONPATH": str(site)}  # ahead of this checkout's editable install
    code = ("import verbatim.service.server, verbatim.bench.corrections, verbatim.v1.verbatim_pb2_grpc as g, "
            "verbatim.models as m; print(m.__file__); print(g.VerbatimStub.__name__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.splitlines() == [str(site / "verbatim" / "models" / "__init__.py"), "VerbatimStub"]
    serve = subprocess.run([sys.executable, "-m", "verbatim.cli", "serve", "--help"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=120)
    assert serve.returncode == 0 and "--registry" in serve.stdout
    entry_points = next(site.glob("verbatim-*.dist-info")) / "entry_points.txt"
    assert "verbatim = verbatim.cli:main" in entry_points.read_text()
