"""A real browser for the integration tests (Playwright driving Debian's Chromium, never a
browser download) and the check every target's pages pass, wherever the app runs (Django's
live server, a pushed platform_sim app, Compose, kube-play): every stylesheet, script and image
a page references answers 200 with its content type, no Content-Security-Policy violation nor
console error is reported, nothing scrolls sideways; a full-page screenshot of each page at
each width is kept under artifacts/screenshots."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.browser_network import BrowserNetwork
from tests.pace import within

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = (1280, 390)
# The content type each kind of resource must be served with (a stylesheet served as text/html,
# a 404 page, is refused by the browser: the page then renders unstyled).
CONTENT_TYPES = {
    "stylesheet": ("text/css",),
    "script": ("text/javascript", "application/javascript"),
    "image": ("image/",),
    "font": ("font/", "application/font-woff"),
}
# Runs in every document before its own scripts: what the Content-Security-Policy blocked.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || 'inline code'}`
    + ` (${event.sourceFile || 'page'}:${event.lineNumber})`);
});
"""
CUT_BADGES = """() => [...document.querySelectorAll('td .badge')].filter((badge) => {
  const inner = badge.getBoundingClientRect(), cell = badge.closest('td').getBoundingClientRect();
  return inner.width > 0 && (inner.right > cell.right + 0.5 || inner.left < cell.left - 0.5);
}).map((badge) => badge.textContent.trim())"""
REFERENCED = """() => [...document.querySelectorAll(
  'link[rel~=stylesheet][href], script[src], img[src]')]
  .map((element) => element.href || element.src)"""


@contextlib.contextmanager
def chromium() -> Iterator:
    """A running Debian Chromium, headless, in a network namespace of its own (see
    ``browser_network``), for a module's (or a test's) pages; a clear failure when Chromium is
    not installed."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (bin/bootstrap)")
    with BrowserNetwork() as network, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**network.launch_options(CHROMIUM, CHROMIUM_ARGS))
        browser.network = network
        try:
            yield browser
        finally:
            browser.close()


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


class Watch:
    """What a browser tab loaded and what went wrong in it (bad resources, CSP violations,
    console errors), from when it was opened."""

    def __init__(self, page) -> None:
        self.page = page
        self.served: set[str] = set()  # resources that answered 200 with the right type
        self.problems: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("console", self._console)

    def _response(self, response) -> None:
        kind = response.request.resource_type
        if kind not in CONTENT_TYPES:
            return
        content_type = response.headers.get("content-type", "")
        if response.status == 304 and response.url in self.served:
            return  # revalidated: the copy this tab was served right before
        if response.status != 200:
            self.problems.append(f"{kind} {response.url} answered {response.status}")
        elif not content_type.startswith(CONTENT_TYPES[kind]):
            self.problems.append(f"{kind} {response.url} served as {content_type!r}")
        else:
            self.served.add(response.url)

    def _failed(self, request) -> None:
        if request.resource_type in CONTENT_TYPES:
            self.problems.append(f"{request.resource_type} {request.url} failed: {request.failure}")

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            where = message.location.get("url") or self.page.url
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def settle(self) -> list[str]:
        """The problems of the page shown now (then forgotten): the above, CSP violations, and
        each referenced resource never served right."""
        found = self.problems + [
            f"CSP: {text}" for text in self.page.evaluate("() => window.__cspViolations || []")
        ]
        found += [
            f"referenced, never served right: {url}"
            for url in self.page.evaluate(REFERENCED)
            if url not in self.served
        ]
        self.problems = []
        return list(dict.fromkeys(found))  # each once, in order


def open_tab(browser, width: int, state: dict | None = None, scheme: str = "light"):
    """A new tab ``width`` px wide (with the cookies of ``state``), watched (``tab.watch``)."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, storage_state=state
    )
    page = context.new_page()
    page.set_default_timeout(within(30) * 1000)
    page.watch = Watch(page)
    return page


def log_in(browser, base: str, password: str, username: str = "admin") -> tuple[dict, list[str]]:
    """Log in through the admin's form: the session (cookies) for other tabs, and the login
    page's problems (see ``Watch.settle``)."""
    page = open_tab(browser, 1280)
    try:
        page.goto(base.rstrip("/") + "/admin/login/?next=/admin/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page.context.storage_state(), page.watch.settle()
    finally:
        page.context.close()


def load(page, url: str) -> tuple[int, list[str]]:
    """Open ``url``: its status and problems (see ``Watch.settle``)."""
    response = page.goto(url)
    page.wait_for_load_state("load")
    return response.status, page.watch.settle()


@dataclass
class PageReport:
    """What the check of one page at one width found."""

    name: str
    width: int
    height: int
    problems: list[str] = field(default_factory=list)


def check_pages(
    browser, base: str, pages: dict[str, str], state: dict | None, target: str
) -> list[PageReport]:
    """Open each page at each width; screenshot it as ``TARGET-NAME-WIDTH``; report problems
    (see ``Watch.settle``), sideways scrolling and status badges cut by their cell, and the
    page's height."""
    reports = []
    for width in WIDTHS:
        page = open_tab(browser, width, state)
        try:
            for name, path in pages.items():
                status, problems = load(page, base.rstrip("/") + path)
                problems = ([] if status == 200 else [f"answered {status}"]) + problems
                scroll, inner = overflow(page)
                if scroll > inner:
                    problems.append(f"{scroll} px wide in a {inner} px window")
                cut = page.evaluate(CUT_BADGES)
                problems += [f"badge {text!r} cut by its cell" for text in cut]
                height = page.evaluate("() => document.documentElement.scrollHeight")
                shot(page, f"{target}-{name}-{width}")
                reports.append(PageReport(name, width, height, problems))
        finally:
            page.context.close()
    return reports


def site_pages(task_id: str) -> dict[str, str]:
    """The pages users see (``task_id``: a task the admin shows): the site's, the dashboard's
    two windows, the admin's lists and a task's page."""
    return {
        "editor": "/",
        "active": "/active/",
        "dashboard": "/monitor/",
        "dashboard-day": "/monitor/?window=day",
        "tasks": "/admin/monitor/taskstate/",
        "task": f"/admin/monitor/taskstate/{task_id}/change/",
        "workers": "/admin/monitor/workerstate/",
        "admin": "/admin/",
    }


def check_site(browser, base: str, state: dict, task_id: str, target: str) -> list[PageReport]:
    """``check_pages`` of ``site_pages``, then the dashboard's and the Tasks list's layout at
    each width (reports named "… layout"); the pages' heights are kept beside the screenshots
    (``TARGET-heights.json``)."""
    reports = check_pages(browser, base, site_pages(task_id), state, target)
    heights = {f"{r.name}-{r.width}": r.height for r in reports}
    (SCREENSHOTS / f"{target}-heights.json").write_text(json.dumps(heights, indent=1) + "\n")
    for width in WIDTHS:
        page = open_tab(browser, width, state)
        try:
            page.goto(base.rstrip("/") + "/monitor/")
            layout = [PageReport("dashboard layout", width, 0, dashboard_problems(page, width))]
            page.goto(base.rstrip("/") + "/admin/monitor/taskstate/")
            layout.append(PageReport("tasks layout", width, 0, list_problems(page)))
        finally:
            page.context.close()
        reports += layout
    return reports


def failures(reports: list[PageReport]) -> dict[str, list[str]]:
    """{"name at width": problems} of the pages that had any."""
    return {f"{r.name} at {r.width}px": r.problems for r in reports if r.problems}


def check_deployed(base: str, password: str, target: str) -> dict[str, list[str]]:
    """The app as deployed at ``base``: log in as admin, queue a job and see it reach SUCCESS
    without a reload (``queue_and_watch``), then ``check_site``; the problems found, by page
    (``{}``: none), and screenshots ``TARGET-PAGE-WIDTH.png``."""
    with chromium() as browser:
        state, problems = log_in(browser, base, password)
        found = {"login": problems} if problems else {}
        tab = open_tab(browser, 1280, state)
        queue_and_watch(tab, base, f"pages-{os.urandom(4).hex()}")
        if problems := tab.watch.settle():
            found["story"] = problems
        task_id = tab.locator("#recent-jobs tbody tr").first.get_attribute("data-task-id")
        tab.context.close()
        return found | failures(check_site(browser, base, state, task_id, target))


def chart_boxes(page) -> list[dict]:
    """Every dashboard chart's drawing and its box, and its legend's swatches (px)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('figure.chart')].map((figure) => {
            const drawing = figure.querySelector('svg.bars').getBoundingClientRect();
            const swatches = [...figure.querySelectorAll('svg.swatch')]
              .map((s) => s.getBoundingClientRect());
            const legend = figure.querySelector('ul.legend');
            return {
              box: figure.getBoundingClientRect().width,
              width: drawing.width, height: drawing.height,
              swatch: swatches.length
                ? Math.max(...swatches.map((s) => Math.max(s.width, s.height))) : null,
              legend_font: legend ? parseFloat(getComputedStyle(legend).fontSize) : 0,
            };
        })"""
    )


# The dashboard's height with a few task names (4 or 5 charts, a row or two per table): its
# stretched swatches made it 6,700 px tall at 1280 px.
DASHBOARD_HEIGHT = {1280: 1600, 390: 2800}


def dashboard_problems(page, width: int) -> list[str]:
    """What is wrong with the dashboard's layout: charts not sized to their box, too low or too
    high, large swatches, a legend too small to read, a page taller than its content needs."""
    found = []
    height = page.evaluate("() => document.documentElement.scrollHeight")
    if height > DASHBOARD_HEIGHT[width]:
        found.append(f"the dashboard is {height} px tall")
    boxes = chart_boxes(page)
    if len(boxes) < 4:
        found.append(f"{len(boxes)} charts")
    for n, box in enumerate(boxes):
        if abs(box["width"] - box["box"]) > 1 or not 100 <= box["height"] <= 200:
            found.append(f"chart {n}: {box['width']}x{box['height']} px in a {box['box']} px box")
        # a chart with nothing to show in the window has no legend (it says so instead)
        if box["swatch"] is not None and (not 0 < box["swatch"] <= 16 or box["legend_font"] < 11):
            found.append(f"chart {n}: swatch {box['swatch']} px, legend {box['legend_font']} px")
    return found


def list_problems(page) -> list[str]:
    """What is wrong with an admin change list's layout: wider than its box (a column cut)."""
    table, box = page.evaluate(
        """() => [document.querySelector('#result_list').getBoundingClientRect().width,
                  document.querySelector('#changelist .results').clientWidth]"""
    )
    return [f"the list is {table} px wide in a {box} px box"] if table > box else []


def queue_and_watch(page, base: str, job: str, routing_key: str = "soup") -> None:
    """Queue a job in the form; the active page shows it queued, then SUCCESS, without a
    reload (its live refresh)."""
    page.goto(base.rstrip("/") + "/")
    page.fill("input[name=job_name]", job)
    page.fill("input[name=routing_key_name]", routing_key)
    page.click("button[type=submit]")
    page.wait_for_url("**/active/")
    page.evaluate("() => { window.__notReloaded = true; }")
    row = page.locator("#recent-jobs tbody tr", has_text=job)
    assert row.count() == 1
    page.wait_for_function(
        """(job) => [...document.querySelectorAll('#recent-jobs tbody tr')]
            .some((row) => row.textContent.includes(job)
                  && row.querySelector('[data-status]').dataset.status === 'SUCCESS')""",
        arg=job,
        timeout=within(120) * 1000,
    )
    assert page.evaluate("() => window.__notReloaded") is True, "the page was reloaded"
