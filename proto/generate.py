"""Generate the Python gRPC stubs from `proto/verbatim/v1/*.proto`.

One generator for every distribution that ships the stubs: the server's build hook
(`setup.py`), the light client's (`clients/python/setup.py`) and `make stubs`. The stubs
are never committed; the module path follows the proto path, so `out_dir/verbatim/v1/`.

    python proto/generate.py OUT_DIR
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent


def proto_files() -> list[Path]:
    """Every contract file, relative to the proto root."""
    return sorted(p.relative_to(PROTO_ROOT) for p in (PROTO_ROOT / "verbatim").rglob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Write `*_pb2.py`, `*_pb2.pyi` and `*_pb2_grpc.py` under `out_dir`; return their paths."""
    from grpc_tools import protoc  # build-time only: grpcio-tools is not a runtime dependency

    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    files = [str(p) for p in proto_files()]
    code = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}", f"--python_out={out_dir}",
                        f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}", *files])
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code} on {files}")
    return [out_dir / Path(f).with_suffix("") for f in files]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python proto/generate.py OUT_DIR")
    for stem in generate(Path(sys.argv[1])):
        print(f"generated {stem}_pb2.py, {stem.name}_pb2.pyi, {stem.name}_pb2_grpc.py")
