"""Where the benchmarks read the public labelled data sets (../shared/data/README.md).

They are never copied into the repository or the package, so their folder is a setting:
the `--data-dir` flag, else $VERBATIM_DATA_DIR, else `../shared/data` from the working
directory (the workspace layout, where the checkout sits beside `shared/`).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "VERBATIM_DATA_DIR"
DEFAULT_DATA_DIR = Path("..") / "shared" / "data"
SEMEVAL_FILE = "semeval14_restaurants_train.xml"
BANKING_FILE = "banking77_train.csv"
HOW_TO_POINT = f"pass --data-dir DIR or set {DATA_DIR_ENV}"


def data_dir(flag: str | Path | None = None) -> Path:
    """The data folder: `flag`, else $VERBATIM_DATA_DIR, else ../shared/data."""
    return Path(flag or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
