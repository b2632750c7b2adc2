"""An instance's programs stop front first, then all the others at once; an unreachable or slow
supervisord says so, and the caller stops the instance as a whole."""

from __future__ import annotations

import pytest

from platform_sim.hosts import shutdown
from tests.fakes import FakeClock


class FakePrograms:
    """A supervisord whose programs stop after ``takes`` polls (per program) once asked."""

    def __init__(self, takes: dict[str, int], down: tuple[str, ...] = ()) -> None:
        self.takes = dict(takes)
        self.asked: list[list[str]] = []  # the stop requests, one list per poll in between
        self.left: dict[str, int] = {}
        self.down = set(down)

    def states(self) -> dict[str, dict]:
        for name in list(self.left):
            self.left[name] -= 1
            if self.left[name] <= 0:
                self.down.add(name)
                del self.left[name]
        self.asked.append([])
        return {
            name: {
                "group": name,
                "statename": "STOPPED"
                if name in self.down
                else ("STOPPING" if name in self.left else "RUNNING"),
            }
            for name in self.takes
        }

    def stop_soon(self, namespec: str) -> None:
        name = namespec.split(":", 1)[1]
        self.asked[-1].append(name)
        self.left[name] = self.takes[name]


def test_the_front_stops_first_then_the_others_together():
    programs = FakePrograms({"nginx": 2, "gunicorn": 3, "djcelery": 5, "platform_watchdog": 1})
    clock = FakeClock()
    assert shutdown.stop_programs(programs, {"nginx"}, 60, clock=clock, sleep=clock.sleep)
    requests = [names for names in programs.asked if names]
    assert requests == [["nginx"], ["gunicorn", "djcelery", "platform_watchdog"]]
    assert programs.down == set(programs.takes)


def test_programs_already_stopped_are_not_asked_again():
    programs = FakePrograms({"nginx": 1, "echoer": 1}, down=("echoer",))
    clock = FakeClock()
    assert shutdown.stop_programs(programs, set(), 60, clock=clock, sleep=clock.sleep)
    assert [names for names in programs.asked if names] == [["nginx"]]


def test_a_program_slower_than_the_deadline_is_false():
    programs = FakePrograms({"djcelery": 10_000})
    clock = FakeClock()
    assert not shutdown.stop_programs(programs, set(), 2.0, clock=clock, sleep=clock.sleep)
    assert 2.0 <= clock.now < 2.2


@pytest.mark.parametrize("error", [ConnectionRefusedError(), TimeoutError()])
def test_an_unreachable_supervisord_is_false_at_once(error):
    class Gone:
        def states(self):
            raise error

        def stop_soon(self, namespec):
            raise AssertionError("never asked")

    clock = FakeClock()
    assert not shutdown.stop_programs(Gone(), {"nginx"}, 60, clock=clock, sleep=clock.sleep)
    assert clock.now == 0.0


def test_a_child_reaped_by_another_thread_meanwhile_is_no_error():
    from platform_sim.hosts.processes import ProcessTable

    table = ProcessTable()

    class Finished:
        def poll(self):  # another thread's reap removes it first, as parallel stops do
            table._popen.pop(7, None)
            return 0

    table._popen[7] = Finished()
    table.reap()
    assert table._popen == {}
