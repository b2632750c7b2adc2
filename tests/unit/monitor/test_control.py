"""Remote-control replies, flattened and described."""

import pytest

from minestrone.monitor.control import ControlUnavailable, Outcome, RemoteControl


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
    with pytest.raises(ControlUnavailable):
        control.rate_limit("t", "1/s")
    with pytest.raises(ControlUnavailable):
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
