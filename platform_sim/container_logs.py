"""Inside a code service container: every log file of its programs on the container's output.

``python -m platform_sim.container_logs DIR…`` follows each ``*.log`` of the folders (new files
included, from their first line), printing ``[file] line``, so ``podman logs`` and
``compose logs`` show what the instance's programs write to /var/log/supervisor.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .logfiles import Tailer

POLL = 0.5
SKIPPED = {"supervisord.log"}  # supervisord writes its own log to the output already


def follow(folders: list[Path], rounds: int | None = None, out=sys.stdout) -> None:  # noqa: ANN001
    """Print the new lines of every log file of ``folders`` (forever, or ``rounds`` times)."""
    tailers: dict[Path, Tailer] = {}
    done = 0
    while rounds is None or done < rounds:
        for folder in folders:
            for path in sorted(folder.glob("*.log")):
                if path.name not in SKIPPED:
                    tailers.setdefault(path, Tailer(path))
        for path, tailer in tailers.items():
            for line in tailer.read():
                out.write(f"[{path.stem}] {line}\n")
        out.flush()
        done += 1
        if rounds is None or done < rounds:
            time.sleep(POLL)


if __name__ == "__main__":
    follow([Path(arg) for arg in sys.argv[1:]])
