"""The fault bench's poison job, its pure parts with hand-written fakes: the pool process read
from the worker's log as it starts the job, each run killed once until the job is
dead-lettered, and the dead letters that are the poison job."""

from __future__ import annotations

import json

import pytest

from bench import fault_poison
from bench.dead_letters import copies_of
from bench.fault_errors import BenchError
from bench.fault_poison import LogFollower, Poisoner, started_by
from minestrone.monitor.dead_letter import parse
from tests.fakes import FakeClock

LINE = "[2026-12-07 05:00:00,001: INFO/{process}] minestrone.soup.tasks.lazy_job[t-1]: {text}"


def line(process: str, text: str) -> str:
    """A task's log line as the worker writes it (Celery's task log format)."""
    return LINE.format(process=process, text=text)


@pytest.mark.parametrize(
    ("lines", "processes"),
    [
        ([line("ForkPoolWorker-3", "Starting the lazy job: poison-1")], ["ForkPoolWorker-3"]),
        (
            [
                line("ForkPoolWorker-1", "Starting the lazy job: job-1"),
                line("ForkPoolWorker-2", "Starting the lazy job: poison-1\r"),
                line("ForkPoolWorker-2", "Lazy job poison-1 completed"),
                line("ForkPoolWorker-4", "Starting the lazy job: poison-1"),
            ],
            ["ForkPoolWorker-2", "ForkPoolWorker-4"],
        ),
        ([line("ForkPoolWorker-3", "Starting the lazy job: poison-10")], []),  # merely alike
        ([line("MainProcess", "Starting the lazy job: poison-1")], []),  # no pool process
        (["[2026-12-07 05:00:00,001: INFO/MainProcess] Task lazy_job[t-1] received"], []),
        ([], []),
    ],
)
def test_the_pool_process_starting_the_poison_is_read_from_the_workers_log(lines, processes):
    assert started_by(lines, "poison-1") == processes


def test_the_log_is_followed_from_now_on_in_whole_lines(tmp_path):
    log = tmp_path / "djcelery.log"
    log.write_bytes(b"before\n")
    follower = LogFollower(log)
    assert follower.new_lines() == []
    with log.open("ab") as out:
        out.write(b"one\ntw")
    assert follower.new_lines() == ["one"]
    with log.open("ab") as out:
        out.write(b"o\n")
    assert follower.new_lines() == ["two"]
    assert LogFollower(tmp_path / "missing.log").new_lines() == []


def poisoner(seen: list, dead_after: int | None, clock: FakeClock, kills: list) -> Poisoner:
    """A poisoner seeing at each read of the log the pool processes of ``seen`` in turn (then
    none), the job dead-lettered once ``dead_after`` processes were killed (None: never)."""
    feed = iter(seen)

    def running() -> list[str]:
        return next(feed, [])

    def dead_lettered() -> int:
        return 1 if dead_after is not None and len(kills) >= dead_after else 0

    def kill(process: str, what: str) -> None:
        kills.append((process, what))

    return Poisoner("poison-1", running, dead_lettered, kill, clock, clock.sleep)


def runs(*numbers: int | None) -> list:
    """Reads of the log showing the poison started by pool process N in turn (None: nothing)."""
    return [[f"ForkPoolWorker-{n}"] if n else [] for n in numbers]


def test_each_run_is_killed_once_until_the_job_is_dead_lettered():
    clock, kills = FakeClock(), []
    seen = runs(11, None, 12, 12, None, None, 13, 14, 15, 16, None)  # a line read twice: one run
    assert poisoner(seen, 6, clock, kills).run(within=60) == 1
    assert [process for process, _ in kills] == [f"ForkPoolWorker-{n}" for n in range(11, 17)]
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
