from datetime import UTC, datetime

from kombu.exceptions import OperationalError

from minestrone.soup.activity import ActivityInspector, KnownWorkers


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeInspect:
    def __init__(self, replies, error=None):
        self.replies = replies
        self.error = error

    def active(self):
        if self.error:
            raise self.error
        return self.replies


class FakeControl:
    def __init__(self, replies=None, error=None):
        self.calls = []
        self.replies = replies
        self.error = error

    def inspect(self, timeout, limit):
        self.calls.append({"timeout": timeout, "limit": limit})
        return FakeInspect(self.replies, self.error)


class FakeApp:
    def __init__(self, **kwargs):
        self.control = FakeControl(**kwargs)


REPLY = {
    "celery@w2": [],
    "celery@w1": [
        {
            "id": "t1",
            "name": "minestrone.soup.tasks.lazy_job",
            "args": ["soup"],
            "delivery_info": {"exchange": "default", "routing_key": "tasks.urgent"},
            "time_start": 1767322800.5,
        }
    ],
}


def test_active_tasks_are_flattened_with_routing_key_and_start_time():
    activity = ActivityInspector(FakeApp(replies=REPLY), timeout=1.0)()
    assert activity.workers == ["celery@w1", "celery@w2"]
    [task] = activity.tasks
    assert task.worker == "celery@w1"
    assert task.args == ["soup"]
    assert task.routing_key == "tasks.urgent"
    assert task.started == datetime(2026, 1, 2, 3, 0, 0, 500000, tzinfo=UTC)


def test_no_reply_means_no_worker_answered():
    activity = ActivityInspector(FakeApp(replies=None), timeout=1.0)()
    assert activity.no_worker_answered
    assert activity.broker_error is None


def test_broker_error_is_reported_not_raised():
    app = FakeApp(error=OperationalError("[Errno 111] Connection refused"))
    activity = ActivityInspector(app, timeout=1.0)()
    assert activity.broker_error == "[Errno 111] Connection refused"
    assert not activity.no_worker_answered


def test_once_workers_are_known_the_query_stops_at_their_count():
    clock = FakeClock()
    known = KnownWorkers(clock=clock, ttl=60)
    app = FakeApp(replies=REPLY)
    inspector = ActivityInspector(app, timeout=2.5, known=known)
    inspector()
    inspector()
    assert app.control.calls == [{"timeout": 2.5, "limit": None}, {"timeout": 2.5, "limit": 2}]


def test_known_workers_are_forgotten_after_the_ttl():
    clock = FakeClock()
    known = KnownWorkers(clock=clock, ttl=60)
    known.saw(["celery@w1"])
    clock.now += 30
    known.saw(["celery@w2"])
    clock.now += 31
    assert known.names() == {"celery@w2"}
