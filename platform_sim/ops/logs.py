"""``logs [SVC[.N]…]``: one merged stream of the instances' log files, each line prefixed
``[svc.N]`` (a ``==> file <==`` line when the file changes, as ``tail -F`` writes), followed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from platform_sim.context import Context
from platform_sim.errors import NotDeployed, UsageError
from platform_sim.hosts.instance import LOG_INSIDE, NGINX_LOG_INSIDE, Instance
from platform_sim.kinds import registry
from platform_sim.ops.tail import LogFile, Tailer
from platform_sim.release.targets import Deployed, Ref, current, parse_ref
from platform_sim.services import cluster
from platform_sim.services.provision import DataService

DEFAULT_LINES = 10
POLL_SECONDS = 0.2
REFRESH_SECONDS = 1.0


class LogStream:
    """Merges the lines of many log files into one stream, each line prefixed with its instance."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.tailers: dict[Path, tuple[LogFile, Tailer]] = {}
        self.last: dict[str, Path] = {}

    def emit(self, log: LogFile, lines: list[str]) -> None:
        """Write ``lines`` of ``log``, announcing the file when the instance's previous differs."""
        if not lines:
            return
        if self.last.get(log.label) != log.path:
            self.write(f"[{log.label}] ==> {log.shown} <==")
            self.last[log.label] = log.path
        for line in lines:
            self.write(f"[{log.label}] {line}")

    def start(self, logs: Iterable[LogFile], history: int) -> None:
        """Show the last ``history`` lines of each file (oldest file first), then follow them."""
        for log in sorted(logs, key=_modified):
            tailer = Tailer(log.path)
            self.emit(log, tailer.start(history))
            self.tailers[log.path] = (log, tailer)

    def watch(self, logs: Iterable[LogFile]) -> None:
        """Also follow these (new ones from the start); unlisted ones until they are deleted."""
        wanted = {log.path: log for log in logs}
        for path in set(self.tailers) - set(wanted):
            if not path.exists():
                log, tailer = self.tailers.pop(path)
                self.emit(log, tailer.read())
                tailer.close()
        for path, log in wanted.items():
            if path not in self.tailers:
                self.tailers[path] = (log, Tailer(path))

    def poll(self) -> int:
        """Write every line appended since the previous poll; return how many."""
        count = 0
        for log, tailer in list(self.tailers.values()):
            lines = tailer.read()
            self.emit(log, lines)
            count += len(lines)
        return count

    def close(self) -> None:
        """Stop following every file."""
        for _, tailer in self.tailers.values():
            tailer.close()
        self.tailers.clear()


def _modified(log: LogFile) -> float:
    try:
        return log.path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def instance_logs(instance: Instance) -> list[LogFile]:
    """An instance's program logs (/var/log/supervisor) and nginx's (/var/log/nginx)."""
    found = []
    for folder, inside in (
        (instance.log_dir, LOG_INSIDE),
        (instance.log_dir / "nginx", NGINX_LOG_INSIDE),
    ):
        for path in sorted(folder.glob("*.log")):
            found.append(LogFile(instance.label, path, f"{inside}/{path.name}"))
    return found


def data_logs(service: DataService) -> list[LogFile]:
    """A data service's logs: its host process's and its server's own (where its kind says)."""
    patterns = registry.kind(service.kind).logs
    server = sorted({path for pattern in patterns for path in service.data.glob(pattern)})
    paths = [service.log, *server]
    label = f"{service.name}.{service.node}"
    return [LogFile(label, path, str(path)) for path in paths if path.is_file()]


class AppLogs:
    """The log files of the instances a ``logs`` command names, in the deploy serving now."""

    def __init__(self, ctx: Context, targets: list[str]) -> None:
        self.ctx = ctx
        self.refs: list[Ref] = [parse_ref(word) for word in targets]
        self.generation: int | None = None

    def files(self, deployed: Deployed | None = None) -> list[LogFile]:
        """Every file to show (UsageError for a service or instance the app does not have)."""
        deployed = deployed or current(self.ctx.paths)
        self.generation = deployed.generation
        refs = self.refs or [Ref(name) for name in deployed.buildfile.services]
        found: list[LogFile] = []
        for ref in refs:
            service = deployed.service(ref.service)
            if service.is_code:
                for instance in deployed.instances_of(ref):
                    found.extend(instance_logs(instance))
            else:
                nodes = cluster.present(
                    service.name, service.type, self.ctx.paths.service(service.name)
                )
                chosen = [n for n in nodes if ref.number in (None, n.node)]
                if not chosen:
                    deployed.instances_of(ref)  # raises: no such instance
                for node in chosen:
                    found.extend(data_logs(node))
        return found

    def refresh(self) -> list[LogFile] | None:
        """The files to follow now (a redeploy brings new instances); None once the app is gone."""
        previous = self.generation
        try:
            deployed = current(self.ctx.paths)
            files = self.files(deployed)
        except NotDeployed:
            return None
        except UsageError as exc:  # e.g. a scale-down removed the instance followed
            self.ctx.printer.say(f"-----> no longer following: {exc}")
            return None
        if previous is not None and deployed.generation != previous:
            self.ctx.printer.say(f"-----> deploy {deployed.generation} serves now: following it")
        return files


def follow(
    stream: LogStream,
    refresh: Callable[[], list[LogFile] | None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Write new lines as they are appended; look for new files every second; stop when asked."""
    next_refresh = clock() + REFRESH_SECONDS
    while keep_going():
        stream.poll()
        if clock() >= next_refresh:
            files = refresh()
            if files is None:
                stream.poll()
                return
            stream.watch(files)
            next_refresh = clock() + REFRESH_SECONDS
        sleep(POLL_SECONDS)


def logs(
    ctx: Context,
    targets: list[str],
    write: Callable[[str], None],
    *,
    lines: int = DEFAULT_LINES,
    follow_files: bool = True,
) -> None:
    """Show the last ``lines`` lines of the named instances' logs, then follow them."""
    selection = AppLogs(ctx, targets)
    stream = LogStream(write)
    try:
        stream.start(selection.files(), lines)
        if follow_files:
            follow(stream, selection.refresh)
    finally:
        stream.close()
