"""A run that leaves a new file in the repository fails: tests write into temporary directories.

The untracked files git does not ignore are listed when the run starts and again when it ends
(by the controller only, under pytest-xdist); anything new is named and the run fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BEFORE = pytest.StashKey[frozenset[str] | None]()
LEFT = pytest.StashKey[list[str]]()


def untracked(root: Path = ROOT) -> frozenset[str] | None:
    """Untracked, not ignored paths under root (folders as one entry); None outside a clone."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "--directory"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(result.stdout.splitlines())


def left_behind(before: frozenset[str] | None, after: frozenset[str] | None) -> list[str]:
    """What appeared between the two listings (nothing when either is unknown)."""
    if before is None or after is None:
        return []
    return sorted(after - before)


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """List the untracked files before any test runs."""
    config.stash[BEFORE] = untracked() if _controller(config) else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run when tests left new files in the repository."""
    config = session.config
    if not _controller(config):
        return
    new = left_behind(config.stash.get(BEFORE, None), untracked())
    config.stash[LEFT] = new
    if new and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Name the files the tests left, and say how to avoid them."""
    new = config.stash.get(LEFT, [])
    if new:
        terminalreporter.write_sep("=", "files left in the repository", red=True)
        terminalreporter.write_line(
            f"the tests left {', '.join(new)} in {ROOT}: write into tmp_path (or a temporary "
            "directory) and run subprocesses there; remove these files"
        )
