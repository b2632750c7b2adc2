"""The platform's watchdog in every instance: a supervisord event listener that starts again,
with backoff, a program that ended in FATAL (its start retries exhausted).

supervisord gives up on a program that exits too soon too often (a worker killed a few times
in quick succession); on the platform the container would have been restarted. The listener
talks the event protocol on stdin/stdout and logs on stderr (``platform_watchdog.log`` in
/var/log/supervisor, which ``logs`` shows).
"""

from __future__ import annotations

import argparse
import configparser
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Callable
from urllib.parse import quote, urlsplit

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
FORGET_AFTER = 600.0  # a program FATAL again after this long starts the backoff again


class Backoff:
    """The delay before each restart of a program: doubling while it keeps failing."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, list[float]] = {}

    def next_delay(self, name: str) -> float:
        """Record a FATAL of ``name``; return how long to wait before starting it again."""
        now = self.clock()
        recent = [t for t in self.failures.get(name, []) if now - t < FORGET_AFTER]
        recent.append(now)
        self.failures[name] = recent
        return min(MAX_DELAY, FIRST_DELAY * 2 ** (len(recent) - 1))


def control_url(config_path: str) -> str:
    """The supervisord control URL with its credentials, from the instance's configuration."""
    parser = configparser.RawConfigParser()
    parser.read(config_path)
    section = parser["supervisorctl"]
    parts = urlsplit(section["serverurl"])
    user = quote(section.get("username", ""), safe="")
    password = quote(section.get("password", ""), safe="")
    return f"{parts.scheme}://{user}:{password}@{parts.netloc}/RPC2"


def log(text: str) -> None:
    """One line of the watchdog's log."""
    sys.stderr.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} platform watchdog: {text}\n")
    sys.stderr.flush()


def start_again(url: str, name: str) -> None:
    """Ask supervisord to start ``name``; log what happened."""
    try:
        xmlrpc.client.ServerProxy(url).supervisor.startProcess(name, False)
    except xmlrpc.client.Fault as fault:
        log(f"starting {name} again failed: {fault.faultString}")
    except OSError as exc:
        log(f"starting {name} again failed: {exc}")
    else:
        log(f"started {name} again")


def fatal_program(headers: dict, payload: str) -> str | None:
    """``group:name`` of the program a PROCESS_STATE_FATAL event is about (None otherwise)."""
    if headers.get("eventname") != "PROCESS_STATE_FATAL":
        return None
    fields = dict(word.split(":", 1) for word in payload.split("\n", 1)[0].split() if ":" in word)
    if "processname" not in fields:
        return None
    return f"{fields.get('groupname', fields['processname'])}:{fields['processname']}"


def main(argv: list[str] | None = None) -> int:
    """Listen to supervisord's events until it stops us."""
    from supervisor import childutils

    parser = argparse.ArgumentParser(
        prog="python -m platform_sim.hosts.watchdog", description=__doc__
    )
    parser.add_argument("-c", "--configuration", required=True)
    options = parser.parse_args(argv)
    url = control_url(options.configuration)
    backoff = Backoff()
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        name = fatal_program(headers, payload)
        if name is not None:
            delay = backoff.next_delay(name)
            log(f"{name} is FATAL (start retries exhausted): starting it again in {delay:g} s")
            timer = threading.Timer(delay, start_again, (url, name))
            timer.daemon = True
            timer.start()
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
