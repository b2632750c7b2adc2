"""Upload: copy the pushed tree into a new revision, skipping what the platform skipped."""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from platform_sim.errors import PlatformError

IGNORE_FILE = ".dotcloudignore"
ALWAYS_IGNORED = (".git", ".hg", "*.pyc", "__pycache__")
# A folder holding one of these is an export (compose / kubernetes / kube-play state): its env
# files and Secrets hold passwords, so it is never uploaded, whatever .dotcloudignore says.
EXPORT_MARKERS = ("compose.yaml", "00-namespace.yaml", ".kube-play")
# Folders of an app's package that Django reads: its static files (the staticfiles finders, so
# collectstatic) and its templates (the app-directories loader). A rule skipping one is a warning.
APP_FOLDERS = ("static", "templates")


def is_export_folder(path: Path) -> bool:
    """Whether ``path`` is a folder an export wrote (it holds one of ``EXPORT_MARKERS``)."""
    return any(os.path.lexists(path / marker) for marker in EXPORT_MARKERS)


def ignore_patterns(folder: Path) -> list[str]:
    """The patterns skipped on upload: the platform's own, then ``.dotcloudignore``'s lines."""
    patterns = list(ALWAYS_IGNORED)
    try:
        lines = (folder / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return patterns
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line.rstrip("/") if line != "/" else line)
    return patterns


def matching_pattern(relative: str, patterns: list[str]) -> str | None:
    """The first pattern a path (relative to the pushed folder, with ``/``) matches, if any.

    A pattern with a ``/`` matches the whole relative path (a leading ``/`` anchors it at the
    root); one without matches any single path component.
    """
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(relative, pattern.lstrip("/")):
                return pattern
        elif fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a path (relative to the pushed folder, with ``/``) matches a pattern."""
    return matching_pattern(relative, patterns) is not None


def is_app_folder(path: Path) -> bool:
    """Whether ``path`` is a folder Django reads from an app: ``static/`` or ``templates/``
    beside an ``__init__.py``."""
    return path.name in APP_FOLDERS and (path.parent / "__init__.py").is_file()


def app_folder_warning(relative: str, pattern: str) -> str:
    """The warning for an ignore rule that skips an app's ``static/`` or ``templates/``."""
    name = relative.rsplit("/", 1)[-1]
    return (
        f"skipped {relative}/ (ignore rule {pattern!r}): Django reads an app's {name}/ "
        f"folder, so its files will be missing; to skip only a folder at the top, anchor the "
        f"rule: '/{pattern.strip('/')}/'"
    )


@dataclass(frozen=True)
class UploadReport:
    """What an upload copied."""

    files: int
    size: int


def copy_tree(
    source: Path,
    target: Path,
    patterns: list[str] | None = None,
    warn: Callable[[str], None] = lambda text: None,
) -> UploadReport:
    """Copy ``source`` into the new folder ``target``, skipping ignored paths; keep symlinks.

    Sockets, FIFOs and devices are skipped (``warn`` says which); a file that cannot be read
    raises PlatformError.
    """
    try:
        return _copy_tree(Path(source), target, patterns, warn)
    except PlatformError:
        raise
    except OSError as exc:
        where = exc.filename or source
        raise PlatformError(f"cannot upload {where}: {exc.strerror or exc}") from exc


def _copy_tree(
    source: Path, target: Path, patterns: list[str] | None, warn: Callable[[str], None]
) -> UploadReport:
    """``copy_tree`` without the translation of OSError."""
    patterns = ignore_patterns(source) if patterns is None else patterns
    files = size = 0
    target.mkdir(parents=True)
    for folder, dirnames, filenames in os.walk(source):
        relative_folder = os.path.relpath(folder, source)
        prefix = "" if relative_folder == "." else relative_folder + "/"
        kept = []
        for dirname in sorted(dirnames):
            path = Path(folder) / dirname
            pattern = matching_pattern(prefix + dirname, patterns)
            if pattern is not None:
                if not path.is_symlink() and is_app_folder(path):
                    warn(app_folder_warning(prefix + dirname, pattern))
                continue
            if not path.is_symlink() and is_export_folder(path):
                warn(f"skipped {prefix + dirname}/: an export's output (it holds secrets)")
                continue
            if path.is_symlink():
                os.symlink(os.readlink(path), target / (prefix + dirname))
                continue
            (target / (prefix + dirname)).mkdir()
            kept.append(dirname)
        dirnames[:] = kept
        for filename in filenames:
            if is_ignored(prefix + filename, patterns):
                continue
            path = Path(folder) / filename
            destination = target / (prefix + filename)
            if path.is_symlink():
                os.symlink(os.readlink(path), destination)
                continue
            if not stat.S_ISREG(path.stat().st_mode):
                warn(f"skipped {prefix + filename}: not a regular file (socket, FIFO or device)")
                continue
            shutil.copy2(path, destination)
            files += 1
            size += destination.stat().st_size
    return UploadReport(files, size)


def clone_tree(source: Path, target: Path) -> None:
    """Copy an uploaded revision (nothing to skip any more) into an instance's ``~/code``."""
    shutil.copytree(source, target, symlinks=True)
