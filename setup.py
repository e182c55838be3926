"""Build hook: generate the gRPC stubs from proto/ into the wheel (and the tree, when editable).

Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _generator():
    spec = importlib.util.spec_from_file_location("verbatim_proto_generate", ROOT / "proto" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithStubs(build_py):
    """build_py that first writes the stubs where the installed `verbatim.v1` will look for them."""

    def run(self) -> None:
        # An editable install imports verbatim.v1 from the tree; a wheel from build_lib.
        _generator().generate(ROOT if self.editable_mode else Path(self.build_lib))
        super().run()


setup(cmdclass={"build_py": BuildPyWithStubs})
