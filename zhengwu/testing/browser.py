"""Headless Debian Chromium driven by Playwright (never a downloaded browser), and what browser tests
check on every page: nothing wider than the screen, Chinese drawn with a CJK font, a screenshot kept."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--font-render-hinting=none",
]

PHONE = {"width": 375, "height": 812}  # a common phone screen in CSS pixels (mobile office, 手机办公)


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Debian chromium is not installed: run bin/system-packages")


@contextmanager
def launch() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context_browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield context_browser
        finally:
            context_browser.close()


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Staff sign-in through the form, as a person would; waits for the page after it."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot under <data dir>/screenshots/ (var/test/... in bin/test) for people."""
    from django.conf import settings

    folder = Path(settings.DATA_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page: Any) -> list[str]:
    """Elements that stick out to the right of the viewport (what makes a phone page scroll sideways)."""
    result: list[str] = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > width) {
                out.push(`page is ${document.documentElement.scrollWidth}px wide for a ${width}px screen`);
            }
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
                    let scroller = el.parentElement, clipped = false;
                    while (scroller) {  // inside a deliberately scrolling box (.table-wrap) is fine
                        const ox = getComputedStyle(scroller).overflowX;
                        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { clipped = true; break; }
                        scroller = scroller.parentElement;
                    }
                    if (!clipped) out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(r.right)}px`);
                }
            }
            return out.slice(0, 20);
        }"""
    )
    return result


def rendered_fonts(page: Any, selector: str) -> dict[str, int]:
    """The fonts Chromium really used to draw the text of an element: {family: glyph count} (DevTools)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        totals: dict[str, int] = {}
        for font in fonts:
            totals[font["familyName"]] = totals.get(font["familyName"], 0) + int(font["glyphCount"])
        return totals
    finally:
        cdp.detach()
