"""A real browser for the integration tests: Playwright driving Debian's Chromium (never a
browser download), with screenshots kept under artifacts/screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MINESTRONE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
WIDTHS = (1280, 390)


def launch(playwright):
    """Debian's Chromium, headless; a clear failure when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (bin/bootstrap)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def shot(page, name: str) -> Path:
    """Save a full-page screenshot named after the page and width; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def overflow(page) -> tuple[int, int]:
    """(scrollWidth, innerWidth) of the page: no horizontal scrolling when the first is not
    larger than the second."""
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
