"""Remote-control replies, flattened and described."""

import pytest

from minestrone.errors import BrokerUnreachable
from minestrone.monitor.control import Outcome, RemoteControl
from minestrone.monitor.errors import NoWorkerSelected


class Recorder:
    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.calls = answer, error, []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if self.error:
                raise self.error
            return self.answer

        return call


@pytest.mark.parametrize(
    ("answer", "replies"),
    [
        (None, {}),
        ([], {}),
        ([{"w1": {"ok": "revoked"}}], {"w1": "revoked"}),
        ([{"w1": {"error": "unknown task"}}], {"w1": "error: unknown task"}),
        ([{"w1": "pong"}, "junk", {"w2": {"ok": 1}}], {"w1": "pong", "w2": "1"}),
    ],
)
def test_replies_are_flattened(answer, replies):
    outcome = RemoteControl(Recorder(answer), timeout=1.0).revoke(["t"])
    assert outcome.replies == replies


def test_describe():
    assert Outcome({"b": "ok", "a": "fine"}, 1.0).describe() == "a: fine; b: ok"
    assert Outcome({}, 1.5).describe() == "no worker answered within 1.5 s"
    assert Outcome({}, None).describe().startswith("sent")


def test_failed_when_a_worker_answers_an_error():
    assert Outcome({"a": "error: nope", "b": "ok"}, 1.0).failed
    assert not Outcome({"a": "ok"}, 1.0).failed


@pytest.mark.parametrize("error", [OSError("refused"), ConnectionRefusedError()])
def test_broker_errors_become_control_unavailable(error):
    control = RemoteControl(Recorder(error=error), timeout=1.0)
    with pytest.raises(BrokerUnreachable):
        control.rate_limit("t", "1/s")
    with pytest.raises(BrokerUnreachable):
        control.shutdown(["w1"])


def test_revoke_with_a_signal_terminates():
    recorder = Recorder([])
    RemoteControl(recorder, timeout=2.0).revoke(["a"], "SIGKILL")
    assert recorder.calls == [
        (
            "revoke",
            (["a"],),
            {"terminate": True, "signal": "SIGKILL", "reply": True, "timeout": 2.0},
        )
    ]


@pytest.mark.parametrize(
    ("reply", "changed_nothing", "says"),
    [
        ("task events already disabled", True, "restart it without -E"),
        ("task events already enabled", True, "already on"),
        ("terminate: tasks unknown", True, "nothing to stop"),
        ("terminate: t1, t2", False, "stopped t1, t2"),
        ("task events disabled", False, "task events disabled"),
    ],
)
def test_celerys_misleading_replies_are_explained(reply, changed_nothing, says):
    outcome = RemoteControl(Recorder([{"w1": {"ok": reply}}]), timeout=1.0).disable_events(["w1"])
    assert outcome.changed_nothing is changed_nothing
    assert says in outcome.replies["w1"]


def test_one_worker_that_acted_makes_the_outcome_a_change():
    answer = [{"w1": {"ok": "terminate: tasks unknown"}}, {"w2": {"ok": "terminate: t1"}}]
    outcome = RemoteControl(Recorder(answer), timeout=1.0).revoke(["t1"], "SIGTERM")
    assert not outcome.changed_nothing
    assert outcome.no_effect == {"w1"}


def test_a_holder_not_yet_heard_from_is_named_and_nothing_is_said_unchanged():
    # the wait ended once as many workers answered as were online: w2, holding the task, had not
    answer = [{"w1": {"ok": "terminate: tasks unknown"}}]
    recorder = Recorder(answer)
    outcome = RemoteControl(recorder, timeout=1.0).revoke(
        ["t1"], "SIGTERM", expected=1, holders={"w2", "w1"}
    )
    assert recorder.calls[0][2]["limit"] == 1
    assert outcome.unanswered == {"w2"} and not outcome.changed_nothing
    assert outcome.describe().endswith("; w2: no answer yet")


def test_with_no_reply_at_all_no_holder_is_listed():
    outcome = RemoteControl(Recorder([]), timeout=1.0).revoke(["t1"], holders={"w2"})
    assert outcome.unanswered == frozenset()
    assert outcome.describe() == "no worker answered within 1 s"


def test_time_limits_for_all_stop_waiting_at_the_expected_count_but_not_for_some():
    recorder = Recorder([])
    control = RemoteControl(recorder, timeout=1.0)
    control.time_limit("t", 1.0, 2.0, expected=3)
    control.time_limit("t", 1.0, 2.0, hostnames=["w1"], expected=3)
    assert recorder.calls[0][2]["limit"] == 3
    assert "limit" not in recorder.calls[1][2]


@pytest.mark.parametrize(
    ("line", "name", "limits"),
    [
        ("app.add", "app.add", {}),
        (
            "app.add [rate_limit=10/m time_limit=30 soft_time_limit=None]",
            "app.add",
            {"rate_limit": "10/m", "time_limit": "30"},
        ),
    ],
)
def test_registered_lines_are_parsed(line, name, limits):
    from minestrone.monitor.worker_info import parse_registered

    task = parse_registered(line)
    assert (task.name, task.limits) == (name, limits)


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.shutdown([]),
        lambda c: c.enable_events([]),
        lambda c: c.disable_events([]),
        lambda c: c.rate_limit("t", "1/s", hostnames=[]),
        lambda c: c.time_limit("t", 1.0, 2.0, hostnames=[]),
        lambda c: c.pool_grow("", 1),
    ],
)
def test_an_empty_destination_is_refused_and_nothing_is_sent(send):
    # Celery sends a command with an empty destination to every worker
    recorder = Recorder([])
    with pytest.raises(NoWorkerSelected):
        send(RemoteControl(recorder, timeout=1.0))
    assert recorder.calls == []


def test_without_a_destination_a_command_still_reaches_every_worker():
    recorder = Recorder([])
    RemoteControl(recorder, timeout=1.0).rate_limit("t", "1/s")
    [(name, _, kwargs)] = recorder.calls
    assert name == "rate_limit" and "destination" not in kwargs
