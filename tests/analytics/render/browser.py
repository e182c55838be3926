"""Opening a report page in Debian's headless chromium, driven by playwright (nothing is downloaded).

`chromium()` skips a test when the browser is missing, except on CI (CI=true), where that is a failure:
`.ci/chromium.sh` installs it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PageVisit:
    """What a page load showed: every request it made, console and page errors, each chart's box
    (width and height in CSS pixels, None when not rendered), and the page's h1."""

    url: str
    requests: list[str]
    problems: list[str]
    boxes: dict[str, dict[str, float] | None]
    charts: int
    title: str


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: run .ci/chromium.sh")
        pytest.skip("chromium is not installed (bash .ci/chromium.sh installs it)")
    return path


def visit(report: Path, chart_names: list[str], screenshot: Path) -> PageVisit:
    """Load `report` from disk with every other request refused, and take a full-page `screenshot`."""
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    url = report.resolve().as_uri()
    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # belt and braces: anything but the report itself is refused, and shows up in `requests`
            page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
            page.goto(url, wait_until="load")
            page.screenshot(path=str(screenshot), full_page=True)
            boxes = {name: page.locator(f'figure[data-chart="{name}"] svg').bounding_box() for name in chart_names}
            return PageVisit(url, requests, problems, boxes, page.locator("figure svg").count(),
                             page.locator("h1").inner_text())
        finally:
            browser.close()
