"""What every export does: read the build file, variables and scale, check, render, write.

A format (``compose``, ``kubernetes``) subclasses ``Exporter``: it checks its own options and
refuses, in one line, what it cannot express; it renders its files as text. Writing is shared:
the output folder owner-only, every file written atomically, owner-only unless it says
otherwise, never through a link, files of an earlier export that no longer apply removed.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from platform_sim.appfile import buildfile as buildfiles
from platform_sim.appfile.buildfile import BuildFile
from platform_sim.errors import PlatformError, UsageError
from platform_sim.files import PRIVATE, write_text

FOLDER_MODE = 0o700


@dataclass(frozen=True)
class ExportRequest:
    """What every export is asked: the pushed folder, where to write, the app's variables and
    scale (``env set``, ``scale``), and whether a non-empty folder may be written (``--force``)."""

    folder: Path
    out: Path
    variables: dict[str, str] = field(default_factory=dict)
    scale: dict[str, int] = field(default_factory=dict)
    force: bool = False


@dataclass(frozen=True)
class OutputFile:
    """One file an export writes: its text, mode and owner (a uid; None: the user's)."""

    text: str
    mode: int = PRIVATE
    owner: int | None = None


class Exporter(abc.ABC):
    """One export format: ``export()`` checks everything, then writes; nothing on refusal."""

    format: str = ""
    what = "the files"  # for the message when writing fails

    def __init__(self, app: str, request: ExportRequest) -> None:
        self.app = app
        self.request = request

    def export(self) -> list[Path]:
        """Check the request and the build file, render, write; the paths written."""
        self.check_request()
        buildfile = buildfiles.load(self.request.folder)
        self.check(buildfile)
        files = self.render(buildfile)
        return write_files(self.request.out, files, self.stale(files), self.what)

    @abc.abstractmethod
    def check_request(self) -> None:
        """Refuse bad options and an output folder the format cannot write (UsageError)."""

    @abc.abstractmethod
    def check(self, buildfile: BuildFile) -> None:
        """Refuse, in one line, what the build file asks that the format cannot express."""

    @abc.abstractmethod
    def render(self, buildfile: BuildFile) -> dict[str, OutputFile]:
        """The files to write, by name, in the order to write them."""

    def stale(self, files: Mapping[str, OutputFile]) -> list[str]:
        """Files of an earlier export the new one no longer writes (removed)."""
        return []

    def next_steps(self) -> list[str]:
        """Lines telling the user what to do with the files."""
        return []


def check_empty(folder: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``; refuse a file."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(
            f"-o {folder}: the folder is not empty; choose an empty one or pass --force "
            "(generated passwords there are kept)"
        )


def check_no_links(folder: Path, names: Iterable[str]) -> None:
    """Refuse, in one line, a link in ``folder`` where the export reads or writes a file."""
    for name in names:
        if (folder / name).is_symlink():
            raise UsageError(
                f"-o {folder}: {name} is a symbolic link; remove it (the export writes its own "
                "files, never through a link)"
            )


def write_files(
    folder: Path,
    files: Mapping[str, OutputFile],
    stale: Iterable[str] = (),
    what: str = "the files",
) -> list[Path]:
    """Write every file into ``folder`` (made owner-only), then remove the ``stale`` ones."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        for name, output in files.items():
            write_text(folder / name, output.text, output.mode, output.owner)
        for name in stale:
            (folder / name).unlink(missing_ok=True)
    except OSError as exc:
        raise PlatformError(f"cannot write {what} to {folder}: {exc.strerror}") from None
    return [folder / name for name in files]
