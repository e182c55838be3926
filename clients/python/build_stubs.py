"""Generate the gRPC stubs from the repository's proto/ into verbatim_client/_stubs.

The generator is the server's (`proto/generate.py`); the stubs it writes import each other as
`verbatim.v1.*`, which is the server's package, so those imports are rewritten to
`verbatim_client._stubs.*`. Used by setup.py's build hook and by `make stubs`:

    python clients/python/build_stubs.py
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
GENERATOR = ROOT.parents[1] / "proto" / "generate.py"
STUBS = Path("verbatim_client") / "_stubs"
_IMPORT = re.compile(r"^from verbatim\.v1 import (\w+_pb2)\b", flags=re.MULTILINE)


def generate_stubs(package_root: Path) -> list[Path]:
    """Write `*_pb2.py`, `*_pb2.pyi`, `*_pb2_grpc.py` into `package_root/verbatim_client/_stubs`."""
    if not GENERATOR.is_file():
        raise RuntimeError(f"{GENERATOR} not found: build verbatim-client from the verbatim repository "
                           "(pip install ./clients/python), where proto/ is two folders up")
    spec = importlib.util.spec_from_file_location("verbatim_proto_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = package_root / STUBS
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for stem in module.generate(Path(tmp)):
            for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
                source = stem.with_name(stem.name + suffix)
                target = out / source.name
                target.write_text(_IMPORT.sub(r"from verbatim_client._stubs import \1", source.read_text()))
                written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 1:
        sys.exit("usage: python clients/python/build_stubs.py")
    for path in generate_stubs(ROOT):
        print(f"generated {path}")
