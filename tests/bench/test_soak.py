"""`verbatim bench soak` on a few seconds: the mix is sent, answers are counted, corrections are checked."""

from __future__ import annotations

import pytest

from verbatim.bench.soak import SoakConfig, format_table, run
from verbatim.models.registry import Registry


@pytest.mark.timeout(300)
def test_a_short_soak_reports_every_request_and_keeps_every_correction(tiny_registry: Registry) -> None:
    report = run(SoakConfig(tiny_registry.root, minutes=0.15, peak_seconds=2.0), progress=False)
    assert report["requests"] == sum(report["codes"].values()) > 0
    assert report["codes"].get("OK", 0) == report["requests"]  # 70 % of the peak: nothing refused
    assert report["corrections"]["acknowledged"] > 0 and report["corrections"]["missing"] == 0
    assert report["per_minute"][0]["requests"] == report["requests"]
    assert "missing from the store 0" in format_table(report)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="--fraction"):
        SoakConfig(registry=None, fraction=1.5)  # type: ignore[arg-type]
