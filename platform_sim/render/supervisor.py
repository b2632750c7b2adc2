"""An instance's supervisord: its main configuration, its control channel, its config check."""

from __future__ import annotations

import os
import shlex
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass

from platform_sim import isolated
from platform_sim.address import LOOPBACK, host_port
from platform_sim.render.templates import PROGRAM, SUPERVISORD_MAIN, WATCHDOG, render

CONTROL_USER = "platform"
RUNNING = "RUNNING"
FAILED_STATES = ("FATAL", "BACKOFF", "EXITED", "UNKNOWN")
WATCHDOG_NAME = "platform_watchdog"
PLATFORM_PROGRAMS = frozenset([WATCHDOG_NAME])  # the platform's own: not listed as the app's


@dataclass(frozen=True)
class Program:
    """A program the platform itself adds to an instance's supervisord."""

    name: str
    command: str
    directory: str
    stopsignal: str = "TERM"
    startsecs: int = 1


def escape(value: str) -> str:
    """Make a value safe for supervisor's ini syntax: one line, ``%`` doubled."""
    return " ".join(value.split("\n")).strip().replace("%", "%%")


def render_program(program: Program) -> str:
    """One ``[program:x]`` section, restarted when it exits, logging to /var/log/supervisor."""
    return render(
        PROGRAM,
        {
            "name": program.name,
            "command": escape(program.command),
            "directory": escape(program.directory),
            "stopsignal": program.stopsignal,
            "startsecs": program.startsecs,
        },
    )


def render_watchdog(python: str, home: str) -> str:
    """The platform's watchdog: an event listener starting FATAL programs again (watchdog.py),
    the platform's own copy whatever the app's folders and environment hold."""
    argv = isolated.command(
        python, "platform_sim.hosts.watchdog", "-c", f"{home}/platform/supervisord.conf"
    )
    return render(WATCHDOG, {"name": WATCHDOG_NAME, "command": escape(shlex.join(argv))})


def render_main(
    *,
    app: str,
    instance: str,
    generation: int,
    home: str,
    control_port: int,
    control_password: str,
    programs: list[Program],
    address: str = LOOPBACK,
    watchdog: str = "",
) -> str:
    """The instance's main supervisord.conf, which includes ``~/current/supervisord.conf``."""
    return render(
        SUPERVISORD_MAIN,
        {
            "app": app,
            "instance": instance,
            "generation": generation,
            "home": home,
            "identifier": f"{app}-{instance}",
            "control_port": control_port,
            "control_password": control_password,
            "address": address,
            "programs": "".join(render_program(program) for program in programs) + watchdog,
        },
    )


def platform_programs(
    service_type: str,
    processes: Mapping[str, str],
    *,
    home: str,
    nginx: str,
    wsgi_processes: int,
) -> list[Program]:
    """nginx and the WSGI server for ``python``, then the build file's ``process(es)``."""
    current = f"{home}/current"
    programs = []
    if service_type == "python":
        programs.append(
            Program(
                "nginx",
                f"{nginx} -c {home}/platform/nginx.conf -e /var/log/nginx/error.log",
                current,
                stopsignal="QUIT",
            )
        )
        gunicorn = [
            f"{home}/env/bin/gunicorn",
            "--bind",
            f"unix:{home}/platform/wsgi.sock",
            "--workers",
            str(wsgi_processes),
            "--chdir",
            current,
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            "--preload",  # the app is imported once, then the workers fork (as uWSGI does)
            "wsgi:application",
        ]
        programs.append(Program("gunicorn", shlex.join(gunicorn), current))
    for name, command in processes.items():
        programs.append(Program(name, command, current))
    return programs


class Control:
    """The XML-RPC control channel of a running supervisord (loopback, password)."""

    def __init__(
        self, port: int, password: str, timeout: float = 5.0, host: str = LOOPBACK
    ) -> None:
        self.url = f"http://{CONTROL_USER}:{password}@{host_port(port, host)}/RPC2"
        self.timeout = timeout
        self._password = password

    def __repr__(self) -> str:
        return f"Control({self.redact(self.url)!r})"

    def redact(self, text: str) -> str:
        """``text`` with the control password hidden (error texts quote the URL)."""
        return text.replace(self._password, "****") if self._password else text

    def describe(self, error: BaseException) -> str:
        """One line for a failed call, without the password."""
        return self.redact(str(error) or type(error).__name__)

    def _proxy(self) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(self.url, transport=_Transport(self.timeout))

    def states(self) -> dict[str, dict]:
        """Every program's process info (statename, description, pid…), by program name."""
        return {info["name"]: info for info in self._proxy().supervisor.getAllProcessInfo()}

    def restart(self, name: str) -> None:
        """Restart one program (stop, then start)."""
        proxy = self._proxy()
        proxy.supervisor.stopProcess(name, True)
        proxy.supervisor.startProcess(name, True)

    def stop_soon(self, namespec: str) -> None:
        """Ask supervisord to stop one program (its stop signal), without waiting for it."""
        self._proxy().supervisor.stopProcess(namespec, False)

    def restart_all(self) -> None:
        """Stop every program (each with its stop signal and deadline), then start them all."""
        proxy = self._proxy()
        proxy.supervisor.stopAllProcesses(True)
        proxy.supervisor.startAllProcesses(True)

    def shutdown(self) -> None:
        """Ask supervisord to stop every program and exit."""
        self._proxy().supervisor.shutdown()


class _Transport(xmlrpc.client.Transport):
    """An XML-RPC transport with a connection timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):  # noqa: ANN001, ANN201 - the base class's signature
        """Open the HTTP connection with our timeout."""
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


@dataclass(frozen=True)
class ConfigProblem:
    """Something wrong with one program of a supervisord configuration."""

    program: str
    message: str

    def __str__(self) -> str:
        return f"program {self.program}: {self.message}"


def resolve(command: str, path: str) -> str | None:
    """The executable a supervisor ``command`` runs, searched on ``path`` (None if not found)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words:
        return None
    program = words[0]
    if "/" in program:
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def check_config(config_path: str, environ: Mapping[str, str]) -> list[ConfigProblem]:
    """Parse a supervisord configuration as supervisord does; check each program's command."""
    from supervisor.options import ServerOptions

    options = ServerOptions()
    options.environ_expansions = {f"ENV_{key}": value for key, value in environ.items()}
    try:
        options.configfile = config_path
        options.process_config(do_usage=False)
    except (ValueError, OSError) as exc:
        return [ConfigProblem("*", f"the configuration does not parse: {exc}")]
    problems = []
    for group in options.process_group_configs:
        for process in group.process_configs:
            problems.extend(_check_process(process, environ.get("PATH", "")))
    return problems


def _check_process(process, path: str) -> list[ConfigProblem]:  # noqa: ANN001 - supervisor type
    problems = []
    if process.directory and not os.path.isdir(process.directory):
        problems.append(ConfigProblem(process.name, f"directory {process.directory} is missing"))
    if resolve(process.command, path) is None:
        problems.append(
            ConfigProblem(process.name, f"command {process.command!r} does not resolve")
        )
    return problems
