"""A summary as JSON: `summary_to_dict` (JSON-able, stable key order) and `write_summary_json`.

Keys follow the dataclasses' field order; None stays null, dates and datetimes are ISO 8601, enums are
their value, tuples become lists. A non-finite float (which `summarize` never produces) is written as
null rather than as the non-standard NaN/Infinity.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from verbatim.analytics.report import Summary
from verbatim.models.registry import atomic_write
from verbatim.analytics.render.meta import ReportMeta

SCHEMA = "verbatim.summary/1"
"""Names the layout of summary.json; bump it when a reader would misread the new one."""


def to_jsonable(value: Any) -> Any:
    """`value` (dataclasses, enums, dates, tuples, mappings, numbers) as plain JSON types."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def summary_to_dict(summary: Summary, meta: ReportMeta | None = None) -> dict[str, Any]:
    """The document summary.json holds: ``{"schema", "meta" (null without one), "summary"}``."""
    return {"schema": SCHEMA, "meta": to_jsonable(meta), "summary": to_jsonable(summary)}


def summary_json(summary: Summary, meta: ReportMeta | None = None) -> str:
    """`summary_to_dict` as indented JSON text, ending in a newline."""
    return json.dumps(summary_to_dict(summary, meta), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_summary_json(summary: Summary, path: Path, meta: ReportMeta | None = None) -> Path:
    """Write `summary_json` to `path` atomically; returns `path`."""
    atomic_write(path, summary_json(summary, meta))
    return path
