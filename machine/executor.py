"""One way to run a child process: its own session, ready by a real check, its log's tail, and
a stop that asks first and kills the whole group after a grace period (stdlib only)."""

from machine.child import (
    log_tail,
    open_log,
    start,
    stop,
    stop_group,
    wait_for,
    wait_ready,
)
from machine.errors import CannotRun, ExecutorError, NotStarted
from machine.pids import (
    children,
    command_name,
    descendants,
    kill_group,
    pid_alive,
    reap_orphans,
    signal_quietly,
    start_time,
)

__all__ = [
    "CannotRun",
    "ExecutorError",
    "NotStarted",
    "children",
    "command_name",
    "descendants",
    "kill_group",
    "log_tail",
    "open_log",
    "pid_alive",
    "reap_orphans",
    "signal_quietly",
    "start",
    "start_time",
    "stop",
    "stop_group",
    "wait_for",
    "wait_ready",
]
