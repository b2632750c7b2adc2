"""Send a task again from its page and from the Tasks action: linked both ways."""

import pytest

from minestrone.celery_app import app
from minestrone.monitor import sending
from minestrone.monitor.models import TaskEvent
from tests.unit.monitor.test_admin import add_task, html, messages_of, staff

pytestmark = pytest.mark.django_db
LAZY = "minestrone.soup.tasks.lazy_job"
TASKS = "/admin/monitor/taskstate/"


@pytest.fixture
def sent(monkeypatch):
    calls = []
    assert sending.registered(LAZY)
    ids = iter(f"new-{n}" for n in range(100))

    class Result:
        def __init__(self):
            self.id = next(ids)

    def apply_async(args=None, kwargs=None, **options):
        calls.append((args, kwargs, options))
        return Result()

    monkeypatch.setattr(app.tasks[LAZY], "apply_async", apply_async)
    return calls


def test_the_page_sends_a_failed_task_again(admin_client, sent):
    add_task("t-1", "FAILURE", name=LAZY, args="('soup',)", kwargs="{}", routing_key="tasks.x")
    page = html(admin_client.get(f"{TASKS}t-1/change/"))
    assert "Send again</button>" in page
    response = admin_client.post(f"{TASKS}t-1/retry/")
    assert response.status_code == 302 and response["Location"] == f"{TASKS}new-0/change/"
    assert sent == [(["soup"], {}, {"retry": False, "routing_key": "tasks.x"})]
    assert "retried as" in html(admin_client.get(f"{TASKS}t-1/change/"))
    add_task("new-0", "PENDING", name=LAZY)
    new_page = html(admin_client.get(f"{TASKS}new-0/change/"))
    assert f'retry of <a href="{TASKS}t-1/change/">t-1</a>' in new_page
    kinds = set(TaskEvent.objects.values_list("task_id", "kind"))
    assert kinds == {("t-1", "retried as"), ("new-0", "retry of")}


def test_no_button_for_a_success_nor_without_permission(client, admin_client, sent):
    add_task("ok", "SUCCESS", name=LAZY)
    assert "Send again" not in html(admin_client.get(f"{TASKS}ok/change/"))
    add_task("bad", "FAILURE", name=LAZY)
    client.force_login(staff("view_taskstate"))
    assert "Send again" not in html(client.get(f"{TASKS}bad/change/"))
    assert client.post(f"{TASKS}bad/retry/").status_code == 403
    assert sent == []


def test_a_refusal_is_one_line(admin_client, sent):
    add_task("t-1", "FAILURE", name=LAZY, args="(<object>,)")
    response = admin_client.post(f"{TASKS}t-1/retry/", follow=True)
    assert any("Not sent again" in m and "not plain values" in m for m in messages_of(response))
    assert sent == []


def test_the_action_sends_each_selected_task_again(admin_client, sent):
    add_task("a", "FAILURE", name=LAZY, args="(1,)")
    add_task("b", "REVOKED", name=LAZY, args="(2,)")
    add_task("c", "SUCCESS", name=LAZY, args="(3,)")
    response = admin_client.post(
        TASKS, {"action": "retry_tasks", "_selected_action": ["a", "b", "c"]}, follow=True
    )
    texts = messages_of(response)
    assert sorted(args for args, _, _ in sent) == [[1], [2]]
    assert sum("sent again as" in m for m in texts) == 2
    assert any("task c is SUCCESS" in m for m in texts)
