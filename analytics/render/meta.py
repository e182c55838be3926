"""What a report says about itself: its title, whose data, which model, which file and periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReportMeta:
    """The facts around a summary that the page and summary.json print as given.

    - `source`: the input file's name (not its path: a report may be shared outside the machine);
    - `period` and `prior_period`: labels of the current and the prior period ("2026 Q1"), the prior
      None when the summary has no comparison;
    - `generated_at`: when the report was made, timezone-aware.
    """

    title: str
    account: str
    model_version: str
    source: str
    period: str
    generated_at: datetime
    prior_period: str | None = None

    def __post_init__(self) -> None:
        for name in ("title", "account", "model_version", "source", "period"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"ReportMeta.{name} must be a string")
        if self.prior_period is not None and not isinstance(self.prior_period, str):
            raise TypeError("ReportMeta.prior_period must be a string or None")
        if not isinstance(self.generated_at, datetime) or self.generated_at.utcoffset() is None:
            raise ValueError("ReportMeta.generated_at must be a timezone-aware datetime")
