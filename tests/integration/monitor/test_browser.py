"""The site and the monitor in a real browser (Chromium) on Django's live server, on real
RabbitMQ, PostgreSQL, a real worker and the camera: jobs queued in the form show as queued, then
running, then done without a reload; no page scrolls sideways at 390 or 1280 px. The same pages
are checked as deployed (platform_sim, Compose, kube-play) by tests/integration/browser.py's
helpers; the screenshots kept here are named live_server-*."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client

from minestrone.monitor.models import TaskState, WorkerState
from tests.integration.browser import (
    WIDTHS,
    chromium,
    dashboard_problems,
    list_problems,
    open_tab,
    overflow,
    shot,
)
from tests.integration.monitor.conftest import wait_until
from tests.pace import within

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JOBS = 7


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread: let the test's own ORM calls
    # through Django's guard (the live server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium() as browser:
        yield browser
        # ORM calls made while Playwright's loop runs get connections of their own (Django's
        # connections are context-local under a running loop): close them here, or they
        # outlive the test database.
        connections.close_all()


@pytest.fixture
def site(django_db_setup, live_server):
    """Django's live server, started once the test database is PostgreSQL's (not before)."""
    return live_server


@pytest.fixture
def logged_in(site, admin_user):
    """The session cookie of a logged-in staff user, for the browser."""
    client = Client()
    client.force_login(admin_user)
    cookie = client.cookies["sessionid"]
    return [{"name": "sessionid", "value": cookie.value, "url": site.url}]


def new_page(browser, width, cookies, scheme="light"):
    """A watched tab (``page.watch``: bad resources, CSP violations, console errors)."""
    page = open_tab(browser, width, scheme=scheme)
    page.context.add_cookies(cookies)
    return page


def test_jobs_queued_in_the_form_show_queued_then_running_then_done_without_reload(
    browser, site, logged_in, camera, start_worker, request
):
    camera()
    page = new_page(browser, 1280, logged_in)
    try:
        # no worker yet: every job waits in the broker, however long the form takes here
        for n in range(JOBS):
            page.goto(site.url + "/")
            page.fill("input[name=job_name]", f"late-{n + 1}")
            page.fill("input[name=routing_key_name]", "reports.daily")
            page.click("button[type=submit]")
            page.wait_for_url("**/active/")
        # the success message links the task's page
        link = page.locator(".messages a").first
        assert link.get_attribute("href").startswith("/admin/monitor/taskstate/")
        rows = page.locator("#recent-jobs tbody tr")
        assert rows.count() == JOBS
        statuses = page.locator("#recent-jobs [data-status]").all_inner_texts()
        assert statuses == ["queued"] * JOBS, statuses
        page.evaluate("() => { window.__notReloaded = true; }")
        start_worker("b1", env={"SOUP_LAZY_JOB_SECONDS": "3"})
        # the first job queued is the last row; polls replace the rows, so look it up each time
        page.wait_for_function(
            "() => ['running', 'SUCCESS'].includes("
            "[...document.querySelectorAll('#recent-jobs [data-status]')].at(-1).dataset.status)"
        )
        shot(page, "live_server-active-while-running-1280")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#recent-jobs [data-status]')]"
            ".every(el => el.dataset.status === 'SUCCESS')",
            timeout=within(90) * 1000,
        )
        assert page.evaluate("() => window.__notReloaded") is True
        shot(page, "live_server-active-done-1280")
        # a hidden tab stops polling; shown again, it refreshes at once
        page.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState', "
            "{value: 'hidden', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
        page.wait_for_timeout(500)  # a poll already on its way lands
        polls = []
        page.on("request", lambda req: polls.append(req.url) if "/active/" in req.url else None)
        page.wait_for_timeout(5000)
        assert polls == []
        page.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState', "
            "{value: 'visible', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
        page.wait_for_timeout(1000)
        assert polls, "no refresh when the tab became visible again"
        assert page.watch.settle() == []
    except Exception:
        shot(page, f"FAILED-{request.node.name}")
        raise


def test_no_page_scrolls_sideways_at_390_and_1280_px(
    browser, site, logged_in, channel, camera, monitored_worker, request
):
    # `channel`: the module's queue starts empty, so the worker runs this test's jobs only
    camera()
    monitored_worker("b2")
    from tests.integration.monitor.conftest import send

    long_key = "tasks." + ".".join(["segment" + str(n) for n in range(30)])[:240]
    ids = [send("add", 1, 2, routing_key=long_key), send("boom", "x" * 300)]
    wait_until(
        lambda: TaskState.objects.filter(pk__in=ids, state__in=["SUCCESS", "FAILURE"]).count() == 2
    )
    worker = wait_until(lambda: WorkerState.objects.filter(hostname="b2@integration").first())
    pages = {
        "editor": "/",
        "active": "/active/",
        "tasks": "/admin/monitor/taskstate/",
        "task": f"/admin/monitor/taskstate/{ids[0]}/change/",
        "failed-task": f"/admin/monitor/taskstate/{ids[1]}/change/",
        "workers": "/admin/monitor/workerstate/",
        "worker": f"/admin/monitor/workerstate/{worker.pk}/change/",
        "dashboard": "/monitor/",
        "admin": "/admin/",
    }
    too_wide, blocked = {}, {}
    for width in WIDTHS:
        page = new_page(browser, width, logged_in)
        for name, path in pages.items():
            page.goto(site.url + path)
            problems = page.watch.settle()
            if problems:
                blocked[f"{name} at {width}px"] = problems[:3]
            scroll, inner = overflow(page)
            shot(page, f"live_server-{name}-{width}")
            if scroll > inner:
                too_wide[f"{name} at {width}px"] = scroll
                shot(page, f"FAILED-live_server-{name}-{width}")
    assert not too_wide, f"pages wider than the window: {too_wide}"
    assert not blocked, f"resources not served right, or blocked by the CSP: {blocked}"
    # dark mode is respected: our pages switch their background with the admin's
    dark = new_page(browser, 1280, logged_in, scheme="dark")
    for name in ("active", "dashboard", "tasks"):
        dark.goto(site.url + pages[name])
        shot(dark, f"live_server-{name}-1280-dark")
        background = dark.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background in ("rgb(18, 18, 18)", "rgb(18, 18, 18, 1)"), (name, background)
    for width in WIDTHS:  # charts and the Tasks list sized to their boxes
        sized = new_page(browser, width, logged_in)
        sized.goto(site.url + pages["dashboard"])
        assert dashboard_problems(sized, width) == []
        sized.goto(site.url + pages["tasks"])
        assert list_problems(sized) == []
    # the dashboard's charts are drawn with the tasks just run
    page.goto(site.url + "/monitor/")
    bars = page.locator("figure.chart svg rect")
    assert bars.count() >= 3
    assert page.locator("#failures tbody tr").count() == 1
    assert page.locator("#runtimes tbody tr").count() == 1


def test_polls_add_no_listeners_and_swapped_checkboxes_still_select(browser, site, logged_in):
    from django.utils import timezone

    from minestrone.monitor.states import progress

    now = timezone.now()
    TaskState.objects.record(
        [
            {
                "task_id": f"live-{n}",
                "state": "SUCCESS",
                "tstamp": now,
                "progress": progress("SUCCESS", now.timestamp()),
            }
            for n in range(2)
        ]
    )
    page = new_page(browser, 1280, logged_in)
    page.goto(site.url + "/admin/monitor/taskstate/")
    page.evaluate(
        """() => {
            window.actionsCalls = 0;
            window.swaps = 0;
            const actions = window.Actions;
            window.Actions = function (...args) {
                window.actionsCalls += 1;
                return actions.apply(this, args);
            };
            document.addEventListener('htmx:afterSwap', () => { window.swaps += 1; });
        }"""
    )
    for swaps in (1, 2, 3):
        page.evaluate("() => htmx.trigger(document.querySelector('[data-live]'), 'live-refresh')")
        page.wait_for_function(f"() => window.swaps >= {swaps}")
    assert page.evaluate("() => window.actionsCalls") == 0  # polling binds nothing
    page.locator("#result_list input.action-select").first.check()
    assert page.evaluate("() => window.actionsCalls") == 1
    page.wait_for_function(
        "() => document.querySelector('.action-counter').textContent.includes('1 of 2')"
    )
    assert "selected" in page.locator("#result_list tbody tr").first.get_attribute("class")
    page.locator("#action-toggle").check()
    page.wait_for_function(
        "() => document.querySelector('.action-counter').textContent.includes('2 of 2')"
    )
    assert page.evaluate("() => window.actionsCalls") == 1
