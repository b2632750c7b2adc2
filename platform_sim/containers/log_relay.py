"""Inside a code service container: every log file of its programs on the container's output.

``python -m platform_sim.containers.log_relay DIR…`` follows each ``*.log`` of the folders
(new files included, from their first line), printing ``[file] line``, so ``podman logs`` and
``compose logs`` show what the instance's programs write to /var/log/supervisor.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from platform_sim.ops.tail import Tailer

POLL = 0.5
SKIPPED = {"supervisord.log"}  # supervisord writes its own log to the output already


def follow(
    folders: list[Path],
    rounds: int | None = None,
    out=sys.stdout,  # noqa: ANN001
    stop: threading.Event | None = None,
) -> None:
    """Print the new lines of every log file of ``folders`` (until ``stop``, or ``rounds``)."""
    tailers: dict[Path, Tailer] = {}
    stop = stop or threading.Event()
    done = 0
    while rounds is None or done < rounds:
        last = stop.is_set()
        for folder in folders:
            for path in sorted(folder.glob("*.log")):
                if path.name not in SKIPPED:
                    tailers.setdefault(path, Tailer(path))
        for path, tailer in tailers.items():
            for line in tailer.read():
                out.write(f"[{path.stem}] {line}\n")
        out.flush()
        done += 1
        if last:
            return
        if rounds is None or done < rounds:
            stop.wait(POLL)


def main(argv: list[str]) -> None:
    """Follow until SIGTERM, then print what is left and exit."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    follow([Path(arg) for arg in argv], stop=stop)


if __name__ == "__main__":
    main(sys.argv[1:])
