"""The fault bench's poison job, its pure parts with hand-written fakes: the pool process picked
from an ``inspect active`` reply, each run killed once until the job is dead-lettered, and the
dead letters that are the poison job."""

from __future__ import annotations

import json

import pytest

from bench import fault_poison
from bench.dead_letters import copies_of
from bench.fault_errors import BenchError
from bench.fault_poison import Poisoner, running_pids
from minestrone.monitor.dead_letter import parse


def request(args, pid=None, **more) -> dict:
    """One entry of an ``inspect active`` reply, as a worker sends it (JSON: lists)."""
    return {"id": "t-1", "name": "minestrone.soup.tasks.lazy_job", "args": args,
            "kwargs": {}, "worker_pid": pid, **more}  # fmt: skip


@pytest.mark.parametrize(
    ("replies", "pids"),
    [
        ({"celery@w1": [request(["poison-1"], 41), request(["job-1"], 42)]}, [41]),
        ({"celery@w1": [request(["job-1"], 42)], "celery@w2": [request(["poison-1"], 7)]}, [7]),
        ({"celery@w1": [request(("poison-1",), 41)]}, [41]),  # a tuple, before JSON
        ({"celery@w1": [request(["poison-1", "more"], 41)]}, []),  # other arguments
        ({"celery@w1": [request("('poison-1',)", 41)]}, []),  # a repr (a "safe" reply)
        ({"celery@w1": [request(["poison-1"], None)]}, []),  # not accepted by a process yet
        ({"celery@w1": [request(["poison-10"], 41)]}, []),  # a name that merely begins alike
        ({"celery@w1": []}, []),
        ({"celery@w1": None}, []),
        ({}, []),
        (None, []),  # no worker answered in time
    ],
)
def test_the_pool_process_running_the_poison_is_picked_from_the_inspect_reply(replies, pids):
    assert running_pids(replies, "poison-1") == pids


class FakeClock:
    """Time that moves only when the poisoner sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def poisoner(replies: list, dead_after: int | None, clock: FakeClock, kills: list) -> Poisoner:
    """A poisoner seeing ``replies`` one after the other (the last one from then on), the job
    dead-lettered once ``dead_after`` processes were killed (None: never)."""
    feed = iter(replies)
    last: list = [None]

    def active():
        last[0] = next(feed, last[0])
        return last[0]

    def dead_lettered() -> int:
        return 1 if dead_after is not None and len(kills) >= dead_after else 0

    def kill(pid: int, what: str) -> None:
        kills.append((pid, what))

    return Poisoner("poison-1", active, dead_lettered, kill, clock, clock.sleep)


def runs(*pids: int | None) -> list:
    """Replies showing the poison run by each pid in turn (None: nothing running it)."""
    return [{"celery@w1": [request(["poison-1"], pid)] if pid else []} for pid in pids]


def test_each_run_is_killed_once_until_the_job_is_dead_lettered():
    clock, kills = FakeClock(), []
    # each run seen twice (the worker learns of a death a moment later), gaps between runs
    replies = runs(11, 11, None, 12, 12, 12, None, None, 13, 14, 14, 15, 16, None)
    assert poisoner(replies, 6, clock, kills).run(within=60) == 1
    assert [pid for pid, _ in kills] == [11, 12, 13, 14, 15, 16]
    assert kills[0][1] == "the pool process running the poison job (run 1)"
    assert kills[-1][1] == "the pool process running the poison job (run 6)"


def test_the_dead_letter_queue_is_looked_at_every_half_second_not_at_every_reply():
    clock, kills, looks = FakeClock(), [], []
    subject = poisoner(runs(None), None, clock, kills)
    subject.dead_lettered = lambda: looks.append(clock.now) or int(len(looks) >= 3)
    assert subject.run(within=60) == 1
    assert looks == pytest.approx([0.0, 0.5, 1.0], abs=fault_poison.POLL + 1e-9)


def test_a_poison_never_dead_lettered_is_a_bench_error_saying_how_often_it_was_killed():
    clock, kills = FakeClock(), []
    with pytest.raises(BenchError) as raised:
        poisoner(runs(11, 12), None, clock, kills).run(within=5)
    assert "poison-1 was not dead-lettered within 5 s" in str(raised.value)
    assert "killed 2 time(s)" in str(raised.value)
    assert 5 < clock.now < 5 + 2 * fault_poison.POLL


def letter(args, reason="delivery_limit", queue="default.quorum"):
    """A dead letter as RabbitMQ hands it to ``basic_get`` (Celery's protocol 2 body)."""
    properties = {
        "content_type": "application/json",
        "application_headers": {
            "id": "t-1",
            "task": "minestrone.soup.tasks.lazy_job",
            "x-death": [{"reason": reason, "queue": queue, "routing-keys": ["tasks.soup"]}],
        },
    }
    return parse(json.dumps([args, {}, {}]).encode(), properties, "", 5)


def test_the_poison_is_counted_among_dead_letters_by_its_arguments_reason_and_queue():
    letters = [
        letter(["poison-1"]),
        letter(["job-1"]),
        letter(["poison-1"], reason="rejected"),  # not the delivery limit
        letter(["poison-1"], queue="default"),  # not the app's quorum queue
        letter(["poison-10"]),
    ]
    assert copies_of(letters, "poison-1") == 1
    assert copies_of([*letters, letter(["poison-1"])], "poison-1") == 2
    assert copies_of([], "poison-1") == 0
