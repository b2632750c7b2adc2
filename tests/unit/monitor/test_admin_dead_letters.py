"""The admin's Dead letters page: login and permissions like the other monitor pages, CSRF on
its actions, the rows it shows, and what it says when the broker has no dead-letter queue."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from minestrone.monitor import dead_letters
from minestrone.monitor.dead_letter import DeadLetter
from tests.unit.monitor.test_admin import add_task, html, messages_of, staff

pytestmark = pytest.mark.django_db
PAGE = "/admin/monitor/taskstate/dead-letters/"
LETTER = DeadLetter(
    task_id="t-poison",
    name="app.poison",
    args=["<b>soup</b>"],
    kwargs={},
    args_text="('<b>soup</b>',)",
    kwargs_text="{}",
    routing_key="tasks.poison",
    reason="delivery_limit",
    queue="default.quorum",
    dead_lettered_at=datetime(2026, 12, 7, 1, 0, tzinfo=UTC),
    deliveries=6,
    worker="w1@host",
)


@pytest.fixture
def queue(monkeypatch):
    """A fake dead-letter queue holding LETTER; records what was sent back or discarded."""
    done = []
    monkeypatch.setattr(dead_letters, "listing", lambda most=500: ([LETTER], 1))
    monkeypatch.setattr(
        dead_letters, "send_back", lambda task_id, who: done.append(("retry", task_id, who)) or "n1"
    )
    monkeypatch.setattr(dead_letters, "discard", lambda task_id: done.append(("discard", task_id)))
    return done


def test_the_page_lists_each_dead_letter_escaped(admin_client, queue):
    add_task("t-poison", state="FAILURE")
    page = html(admin_client.get(PAGE))
    assert "1 dead-lettered job." in page
    row = page.split('data-task-id="t-poison"', 1)[1].split("</tr>", 1)[0]
    for shown in ("app.poison", "tasks.poison", ">6<", "w1@host", "&lt;b&gt;soup&lt;/b&gt;"):
        assert shown in row
    assert "<b>soup" not in page
    assert 'value="retry"' in row and 'value="discard"' in row
    assert 'href="/admin/monitor/taskstate/dead-letters/"' in html(
        admin_client.get("/admin/monitor/taskstate/")
    )


def test_staff_send_back_and_discard_with_csrf(queue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff("view_taskstate", "change_taskstate"))
    assert client.post(PAGE, {"action": "discard", "task_id": "t-poison"}).status_code == 403
    assert queue == []  # no CSRF token: nothing done
    token = client.get(PAGE).cookies["csrftoken"].value
    answer = client.post(
        PAGE, {"action": "retry", "task_id": "t-poison", "csrfmiddlewaretoken": token}, follow=True
    )
    assert queue == [("retry", "t-poison", "staff")]
    assert "Dead letter t-poison sent back as n1." in messages_of(answer)
    client.post(PAGE, {"action": "discard", "task_id": "t-poison", "csrfmiddlewaretoken": token})
    assert queue[-1] == ("discard", "t-poison")


def test_view_permission_shows_no_buttons_and_cannot_act(client, queue):
    client.force_login(staff("view_taskstate"))
    page = html(client.get(PAGE))
    assert "app.poison" in page and 'value="discard"' not in page
    assert client.post(PAGE, {"action": "discard", "task_id": "t-poison"}).status_code == 403
    assert queue == []


def test_login_and_permission_are_required(client):
    assert client.get(PAGE).status_code == 302  # to the login page
    client.force_login(staff())
    assert client.get(PAGE).status_code == 403


def test_on_a_broker_without_dead_letters_the_page_says_so(admin_client):
    page = html(admin_client.get(PAGE))
    assert "There is no dead-letter queue on a memory broker" in page
