"""Open a report's ``index.html`` in headless Chromium, the way a reader meets it.

:func:`inspect_page` loads the page from disk with every network request recorded, waits
for it to settle, and returns what a test asserts on: the sections shown, each image's
decoded size, console errors and requests. It saves ``screenshot.png`` beside the page.

Chromium comes from the system (Debian's ``chromium`` package); Playwright's own browser
download is not used, so this works without network access.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
INSTALL_HINT = (
    "Chromium is needed for the report's browser test: on Debian or Ubuntu "
    "`sudo apt-get install chromium`, or set FROMSCRATCH_CHROMIUM to a Chromium executable; "
    "then `pip install -c constraints.txt playwright` (its own browser download is not needed)"
)


def find_chromium() -> str | None:
    """The Chromium executable to drive: $FROMSCRATCH_CHROMIUM, else the system one."""
    override = os.environ.get("FROMSCRATCH_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class PageReport:
    section_ids: list[str] = field(default_factory=list)
    images: list[dict[str, object]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def inspect_page(index_html: Path, chromium: str) -> PageReport:
    from playwright.sync_api import sync_playwright

    found = PageReport()
    url = index_html.resolve().as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.on("console", lambda m: m.type == "error" and found.console_errors.append(m.text))
            page.on("pageerror", lambda e: found.console_errors.append(str(e)))
            page.on("request", lambda r: found.requests.append(r.url))
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            found.section_ids = page.eval_on_selector_all(
                "section", "els => els.filter(e => e.offsetHeight > 0).map(e => e.id)"
            )
            found.images = page.eval_on_selector_all(
                "img",
                "els => els.map(e => ({alt: e.alt, complete: e.complete, "
                "width: e.naturalWidth, height: e.naturalHeight}))",
            )
            found.screenshot = index_html.parent / "screenshot.png"
            page.screenshot(path=str(found.screenshot), full_page=True)
        finally:
            browser.close()
    # The page itself is a file:// request; anything else went out to a network.
    found.requests = [r for r in found.requests if r != url and not r.startswith("data:")]
    return found
