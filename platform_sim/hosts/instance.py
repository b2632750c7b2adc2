"""One instance of a code service: its home, its postinstall, its supervisord, its readiness."""

from __future__ import annotations

import http.client
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from platform_sim import isolated
from platform_sim.address import LOOPBACK, host_port, http_url
from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import (
    HOME_INSIDE,
    process_environment,
    render_json,
    render_yaml,
)
from platform_sim.builder.service import BuildResult
from platform_sim.builder.steps import run_step
from platform_sim.builder.upload import clone_tree
from platform_sim.errors import NeverReady, StepFailed
from platform_sim.files import read_json, tail, write_text
from platform_sim.hosts import namespace, shutdown, sockets
from platform_sim.hosts.lifecycle import Namespaced
from platform_sim.hosts.processes import Handle, ProcessTable
from platform_sim.output import Printer
from platform_sim.render import nginx, supervisor

LOG_INSIDE = "/var/log/supervisor"
CWD_INSIDE = f"{HOME_INSIDE}/current"
NGINX_LOG_INSIDE = "/var/log/nginx"
POSTINSTALL_TIMEOUT = 10 * 60
READY_TIMEOUT = 120.0
STOP_GRACE = 75.0
MIN_STOP_GRACE = 10.0  # left for supervisord itself once its programs are stopped (or not)
NOT_ANSWERING = (502, 504)


@dataclass(frozen=True)
class Instance:
    """An instance of one deploy (generation): where it lives and the ports it was given."""

    app: str
    service: str
    type: str
    number: int
    generation: int
    home: Path
    data: Path
    control_port: int
    control_password: str
    http_port: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    address: str = LOOPBACK  # its own host's address on the app's bridge
    netns: str = ""  # its network namespace ("" : the machine's own, loopback)

    @property
    def label(self) -> str:
        """``svc.N``, as the platform names instances."""
        return f"{self.service}.{self.number}"

    @property
    def hostname(self) -> str:
        """The instance's own host name; the deploy is part of it, so old and new never clash."""
        return namespace.host_name(self.app, self.service, self.number, f"d{self.generation}")

    log_dir = property(lambda self: self.home / "log")
    platform_dir = property(lambda self: self.home / "platform")
    pid_file = property(lambda self: self.home / "platform" / "pid.json")

    def control(self, timeout: float = 5.0) -> supervisor.Control:
        """The control channel of the instance's supervisord."""
        return supervisor.Control(
            self.control_port, self.control_password, timeout, host=self.address
        )

    @property
    def url(self) -> str | None:
        """The URL of a web instance's own nginx (None for a worker)."""
        return None if self.http_port is None else http_url(self.http_port, self.address)

    def binds(self) -> list[tuple[str, str]]:
        """What the instance's mount namespace maps: home, supervisor logs, nginx logs."""
        return [
            (str(self.home), HOME_INSIDE),
            (str(self.log_dir), LOG_INSIDE),
            (str(self.log_dir / "nginx"), NGINX_LOG_INSIDE),
        ]

    def host_path(self, inside: str) -> Path:
        """The host path of a path as the instance sees it."""
        for source, target in sorted(self.binds(), key=lambda pair: -len(pair[1])):
            if inside == target or inside.startswith(target + "/"):
                return Path(source + inside[len(target) :])
        return Path(inside)

    def to_json(self) -> dict:
        """The instance as app.json stores it."""
        data = asdict(self)
        data["home"], data["data"] = str(self.home), str(self.data)
        return data

    @classmethod
    def from_json(cls, data: Mapping) -> Instance:
        """The instance app.json describes."""
        return cls(**{**data, "home": Path(data["home"]), "data": Path(data["data"])})


def lay_out(
    instance: Instance, service: Service, build: BuildResult, environment: Mapping[str, str]
) -> None:
    """Create the home: ~/code, ~/current, ~/env, ~/data, the environment files, the configs."""
    home = instance.home
    home.mkdir(parents=True, mode=0o700)
    clone_tree(build.code, home / "code")
    current = os.path.normpath(os.path.join("code", service.approot))
    (home / "current").symlink_to(current)
    (home / "env").symlink_to(build.env)
    instance.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    (home / "data").symlink_to(instance.data)
    write_text(home / "environment.json", render_json(environment))
    write_text(home / "environment.yml", render_yaml(environment))
    (home / "environment.yaml").symlink_to("environment.yml")
    for folder in (instance.platform_dir, instance.log_dir, instance.log_dir / "nginx"):
        folder.mkdir(mode=0o700)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (instance.platform_dir / "nginx" / temp).mkdir(parents=True)
    write_text(instance.platform_dir / "supervisord.conf", render_supervisord(instance, service))
    (instance.platform_dir / "bin").mkdir(mode=0o700)
    write_text(instance.platform_dir / "bin" / "supervisorctl", supervisorctl_script(), 0o700)
    if instance.http_port is not None:
        text = nginx.render_instance(
            app=instance.app,
            instance=instance.label,
            generation=instance.generation,
            home=HOME_INSIDE,
            port=instance.http_port,
            address=instance.address,
            proxies=nginx.platform_proxy(instance.address),  # the router
        )
        write_text(instance.platform_dir / "nginx.conf", text)


def render_supervisord(instance: Instance, service: Service, nginx_binary: str = "") -> str:
    """The instance's main supervisord.conf."""
    programs = supervisor.platform_programs(
        service.type,
        service.processes,
        home=HOME_INSIDE,
        nginx=nginx_binary or nginx_path(),
        wsgi_processes=service.wsgi_processes,
    )
    return supervisor.render_main(
        app=instance.app,
        instance=instance.label,
        generation=instance.generation,
        home=HOME_INSIDE,
        control_port=instance.control_port,
        control_password=instance.control_password,
        programs=programs,
        address=instance.address,
        watchdog=supervisor.render_watchdog(sys.executable, HOME_INSIDE),
    )


def stored_environment(instance: Instance) -> dict[str, str]:
    """The environment of a deployed instance's processes, from its ``environment.json``."""
    return process_environment(read_json(instance.home / "environment.json", {}))


def supervisorctl_script(python: str = sys.executable) -> str:
    """``~/platform/bin/supervisorctl``: supervisorctl talking to this instance's supervisord."""
    return (
        "#!/bin/sh\n"
        "# Written by platform_sim: the instance's supervisorctl (its own supervisord).\n"
        f"exec {shlex.quote(python)} -I -m supervisor.supervisorctl "
        f'-c {HOME_INSIDE}/platform/supervisord.conf "$@"\n'
    )


def nginx_path() -> str:
    """Where nginx is (Debian puts it in /usr/sbin)."""
    for folder in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/usr/local/sbin"]:
        candidate = os.path.join(folder or ".", "nginx")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return "nginx"


def supervisord_command(python: str = sys.executable) -> list[str]:
    """supervisord from our own environment (requirements-dev), else the system's; isolated
    (``-I``): it starts in the app's code folder, whose modules must not stand in for its own."""
    try:
        import supervisor as _supervisor  # noqa: F401
    except ImportError:
        return ["supervisord"]
    return [python, "-I", "-m", "supervisor.supervisord"]


def postinstall_command(service: Service, current: Path) -> list[str] | None:
    """The hook to run: ``postinstall:`` from the build file, else an executable ./postinstall."""
    if service.postinstall:
        return ["/bin/sh", "-c", service.postinstall]
    hook = current / "postinstall"
    if hook.is_file() and os.access(hook, os.X_OK):
        return ["./postinstall"]
    return None


class InstanceRunner:
    """Runs an instance's steps in its namespaces, and starts, watches and stops it."""

    def __init__(
        self,
        table: ProcessTable,
        printer: Printer,
        *,
        python: str = sys.executable,
        unshare: str = "unshare",
        run: Callable[..., float] = run_step,
        clock: Callable[[], float] = time.monotonic,
        ip: str = "ip",
    ) -> None:
        self.table = table
        self.printer = printer
        self.python = python
        self.unshare = unshare
        self.ip = ip
        self.run = run
        self.clock = clock

    def wrap(self, instance: Instance, argv: list[str], cwd: str = CWD_INSIDE) -> list[str]:
        """``argv`` run as the instance's processes run: its namespaces, mounts and host name."""
        return namespace.wrap(
            argv,
            binds=instance.binds(),
            cwd=cwd,
            hostname=instance.hostname,
            unshare=self.unshare,
            netns=instance.netns or None,
            ip=self.ip,
        )

    def postinstall(self, instance: Instance, service: Service, env: Mapping[str, str]) -> float:
        """Run the postinstall hook in ~/current with the full environment (10-minute limit)."""
        hook = postinstall_command(service, instance.home / "current")
        current = instance.home / "current"
        if hook is None:
            if (current / "postinstall").is_file():
                self.printer.line(
                    instance.label,
                    "WARNING: ./postinstall is not executable "
                    "(chmod +x postinstall): skipped, as on the platform",
                )
            return 0.0
        self.printer.step(f"Running postinstall ({' '.join(hook[-1:])})", instance.label)
        return self._step(
            instance, hook, "postinstall", env, POSTINSTALL_TIMEOUT,
            log=instance.platform_dir / "postinstall.log",
        )

    def check(self, instance: Instance, env: Mapping[str, str]) -> float:
        """Parse the supervisor configuration as supervisord will, check every command resolves."""
        argv = isolated.command(
            self.python, "platform_sim.render.confcheck", f"{HOME_INSIDE}/platform/supervisord.conf"
        )
        return self._step(instance, argv, "supervisor configuration check", env, 60)

    def _step(
        self,
        instance: Instance,
        argv: list[str],
        step: str,
        env: Mapping[str, str],
        timeout: float,
        log: Path | None = None,
    ) -> float:
        """Run one step inside the instance (its namespaces, home and environment)."""
        return self.run(
            self.wrap(instance, argv),
            prefix=instance.label,
            step=step,
            printer=self.printer,
            env=env,
            cwd=instance.home,
            timeout=timeout,
            log=log,
        )

    def process(self, instance: Instance) -> Namespaced:
        """The instance's process tree: supervisord and its programs."""
        return Namespaced(self.table, instance.pid_file, instance.platform_dir / "supervisord.out")

    def start(self, instance: Instance, env: Mapping[str, str]) -> Handle:
        """Start the instance's supervisord (its programs follow) in its namespaces."""
        argv = [*supervisord_command(self.python), "-c", f"{HOME_INSIDE}/platform/supervisord.conf"]
        return self.process(instance).spawn(self.wrap(instance, argv), env=env, cwd=instance.home)

    def handle(self, instance: Instance) -> Handle | None:
        """The instance's supervisord if it still runs."""
        return self.process(instance).handle()

    def wait_ready(
        self, instance: Instance, handle: Handle, timeout: float = READY_TIMEOUT
    ) -> float:
        """Wait until every program runs and, for a web instance, nginx answers from the app."""
        control = instance.control()
        failed_program: list[str] = []
        reached = sockets.Reached(handle.pid)

        def probe() -> bool:
            problem, ready = self._programs(control, reached)
            if problem:
                failed_program.append(problem)
                raise NeverReady(f"program {problem} failed")
            return ready and (
                instance.http_port is None or answers_http(instance.http_port, instance.address)
            )

        def failed(reason: str) -> StepFailed:
            if reason == "exited":
                reason = "supervisord exited"
            return StepFailed(
                instance.label, f"start ({reason})", None, self._tails(instance, failed_program)
            )

        return self.process(instance).wait_ready(
            handle, probe, timeout=timeout, failed=failed, clock=self.clock
        )

    @staticmethod
    def _programs(
        control: supervisor.Control, reached: Callable[[int], bool] = lambda pid: False
    ) -> tuple[str | None, bool]:
        """(a program that failed, whether all run) from supervisord's process table: a
        program runs once supervisord says so (it stayed up ``startsecs``), or sooner once
        ``reached`` says its process connected to a server (it got through its start)."""
        try:
            states = control.states()
        except (OSError, http.client.HTTPException, ConnectionError, Exception):  # noqa: BLE001
            return None, False
        for name, info in states.items():
            if info["statename"] in ("FATAL", "BACKOFF"):
                return name, False
        return None, all(
            info["statename"] in ("RUNNING", "EXITED")
            or (info["statename"] == "STARTING" and bool(info.get("pid")) and reached(info["pid"]))
            for info in states.values()
        )

    def _tails(self, instance: Instance, programs: list[str]) -> str:
        parts = []
        for program in programs:
            for suffix in ("_error.log", ".log"):
                text = tail(instance.log_dir / f"{program}{suffix}", 15)
                if text:
                    parts.append(f"--- {program}{suffix} ---\n{text}")
        parts.append(f"--- supervisord.log ---\n{tail(instance.log_dir / 'supervisord.log', 15)}")
        return "\n".join(parts)

    def stop(self, instance: Instance, grace: float = STOP_GRACE) -> None:
        """Stop the programs (nginx first, then the rest at once), then SIGTERM to supervisord;
        at the deadline, kill the namespace."""
        started = self.clock()
        if instance.control_port and self.handle(instance) is not None:
            front = {"nginx"} if instance.http_port is not None else set()
            shutdown.stop_programs(
                instance.control(), front, grace - MIN_STOP_GRACE, clock=self.clock
            )
        left = max(grace - (self.clock() - started), MIN_STOP_GRACE)
        self.process(instance).stop(left)


def answers_http(port: int, host: str = LOOPBACK, timeout: float = 2.0) -> bool:
    """Whether the nginx on ``host:port`` answers from the app (not a 502/504 of its own)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Host": host_port(port, host)})
        return connection.getresponse().status not in NOT_ANSWERING
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
