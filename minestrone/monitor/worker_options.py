"""The old `celeryd` options (django-celery, Celery 3) translated to `celery worker` (Celery 5)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from minestrone.monitor.errors import UnsupportedOption


@dataclass(frozen=True)
class OldOption:
    """One option of the old celeryd: its spellings, what it becomes, its help."""

    flags: tuple[str, ...]
    dest: str
    help: str
    new: str | None = None  # the Celery 5 option; None: the first old spelling is still valid
    takes_value: bool = True
    dropped: str | None = None  # why the option is ignored now
    refused: str | None = None  # why the option cannot be used

    @property
    def celery_flag(self) -> str:
        """The spelling passed to Celery 5."""
        return self.new or next(f for f in self.flags if f.startswith("--"))


OPTIONS = (
    OldOption(
        ("-E", "--events"),
        "events",
        "Send task events (the monitor needs them).",
        takes_value=False,
    ),
    OldOption(("-l", "--loglevel"), "loglevel", "Log level: debug, info, warning, error."),
    OldOption(("-c", "--concurrency"), "concurrency", "Number of pool processes."),
    OldOption(("-Q", "--queues"), "queues", "Comma-separated queues to consume from."),
    OldOption(("-X", "--exclude-queues"), "exclude_queues", "Comma-separated queues to skip."),
    OldOption(("-n", "--hostname"), "hostname", "Node name, such as w1@%%h."),
    OldOption(("-f", "--logfile"), "logfile", "Log to this file instead of stderr."),
    OldOption(("--pidfile",), "pidfile", "Write the main process id to this file."),
    OldOption(("-P", "--pool"), "pool", "Pool: prefork, threads, solo, eventlet, gevent."),
    OldOption(("-B", "--beat"), "beat", "Also run the periodic task scheduler.", takes_value=False),
    OldOption(("-s", "--schedule"), "schedule", "Path of beat's schedule database."),
    OldOption(("--scheduler",), "scheduler", "Beat's scheduler class."),
    OldOption(("-S", "--statedb"), "statedb", "Path of the persistent state database."),
    OldOption(("-O",), "optimization", "Optimization profile: default or fair.", new="-O"),
    OldOption(("-I", "--include"), "include", "Comma-separated modules to import."),
    OldOption(("--autoscale",), "autoscale", "MAX,MIN pool processes."),
    OldOption(
        ("--maxtasksperchild", "--max-tasks-per-child"),
        "max_tasks_per_child",
        "Replace a pool process after this many tasks.",
        new="--max-tasks-per-child",
    ),
    OldOption(
        ("--maxmemperchild", "--max-memory-per-child"),
        "max_memory_per_child",
        "Replace a pool process above this resident memory (KiB).",
        new="--max-memory-per-child",
    ),
    OldOption(("--time-limit",), "time_limit", "Hard time limit of a task, in seconds."),
    OldOption(("--soft-time-limit",), "soft_time_limit", "Soft time limit, in seconds."),
    OldOption(
        ("--purge", "--discard"),
        "purge",
        "Discard all waiting tasks before starting.",
        takes_value=False,
    ),
    OldOption(
        ("--without-gossip",),
        "without_gossip",
        "Do not subscribe to other workers.",
        takes_value=False,
    ),
    OldOption(
        ("--without-mingle",),
        "without_mingle",
        "Do not sync with other workers.",
        takes_value=False,
    ),
    OldOption(
        ("--without-heartbeat",),
        "without_heartbeat",
        "Send no heartbeats (the monitor then shows the worker OFFLINE).",
        takes_value=False,
    ),
    OldOption(("--heartbeat-interval",), "heartbeat_interval", "Seconds between heartbeats."),
    OldOption(("--uid",), "uid", "Drop privileges to this user."),
    OldOption(("--gid",), "gid", "Drop privileges to this group."),
    OldOption(("--umask",), "umask", "Umask of created files."),
    OldOption(
        ("--autoreload",),
        "autoreload",
        "Ignored: removed in Celery 4.",
        takes_value=False,
        dropped="--autoreload was removed in Celery 4",
    ),
    OldOption(
        ("--no-execv",),
        "no_execv",
        "Ignored: removed in Celery 4.",
        takes_value=False,
        dropped="--no-execv was removed in Celery 4",
    ),
    OldOption(
        ("-D", "--detach"),
        "detach",
        "Not supported: run the worker under supervisor.",
        takes_value=False,
        refused="--detach is not supported by manage.py celeryd: run it in the "
        "foreground under a supervisor (see supervisord.conf)",
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the old options on a command's parser, so `--help` documents them."""
    group = parser.add_argument_group(
        "celeryd options",
        "The options of the old celeryd; any other option is passed on to "
        "`celery worker` (Celery 5) as it is.",
    )
    for option in OPTIONS:
        if option.takes_value:
            group.add_argument(*option.flags, dest=option.dest, default=None, help=option.help)
        else:
            group.add_argument(
                *option.flags, dest=option.dest, action="store_true", help=option.help
            )


def celery_worker_argv(options: dict, extra: list[str]) -> tuple[list[str], list[str]]:
    """Return the `celery worker` arguments for the parsed options, and warnings to show."""
    argv: list[str] = ["worker"]
    warnings: list[str] = []
    for option in OPTIONS:
        value = options.get(option.dest)
        if value is None or value is False:
            continue
        if option.refused:
            raise UnsupportedOption(option.refused)
        if option.dropped:
            warnings.append(f"ignored: {option.dropped}")
            continue
        argv.append(option.celery_flag)
        if option.takes_value:
            argv.append(str(value))
    return argv + list(extra), warnings
