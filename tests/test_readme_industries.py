"""The README's industries example, run as written against a real server and store: the account is
created with the ecommerce taxonomy, and a comment of it is classified."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.models.predictor import Predictor
from verbatim.store import Store
from tests.service.harness import serving

README = Path(__file__).resolve().parents[1] / "README.md"


def example() -> str:
    block = re.search(r"<!-- industries example[^>]*-->\n```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert block, "the README has no <!-- industries example --> block"
    return block.group(1)


def test_readme_industries_example_runs(tiny_predictor: Predictor, tmp_path: Path) -> None:
    script = example()
    assert ".venv/bin/verbatim accounts create shop --industry ecommerce" in script
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store, \
            serving(tiny_predictor, {"store": store}, reload_s=0) as harness:
        # The only change: where `.venv/bin/` points, and where the server listens (as `verbatim serve` reads it).
        env = os.environ | {"VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(harness.port)}
        done = subprocess.run(["bash", "-ec", script.replace(".venv/bin/", f"{Path(sys.executable).parent}/")],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        assert store.account_industry("shop") == "ecommerce"
        assert store.taxonomy("shop") == INDUSTRY_TAXONOMIES["ecommerce"]
    assert done.stdout.startswith("created account 'shop' (ecommerce, 9 tags)\nDelivery"), done.stdout
    classified = done.stdout.split("\ntags:\n", 1)[1]
    assert re.search(r"Delivery +1\.00 +RULE +[A-Z]+ +\"parcel\"", classified), done.stdout
    assert re.search(r"Returns & refunds +1\.00 +RULE +[A-Z]+ +\"refund\"", classified), done.stdout
