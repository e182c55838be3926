"""Build hook: generate the gRPC stubs (build_stubs.py) into the wheel, or the tree when editable.

Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _build_stubs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("verbatim_client_build_stubs", ROOT / "build_stubs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithStubs(build_py):
    """build_py that first writes the stubs where the installed `verbatim_client._stubs` looks for them."""

    def run(self) -> None:
        # An editable install imports from the tree; a wheel from build_lib.
        _build_stubs().generate_stubs(ROOT if self.editable_mode else Path(self.build_lib))
        super().run()


setup(cmdclass={"build_py": BuildPyWithStubs})
