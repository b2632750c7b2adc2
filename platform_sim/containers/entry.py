"""A code service container's entrypoint: what a platform instance does at deploy time.

Lays out /home/dotcloud (code and env are in the image, data is a volume), takes
``environment.json`` from a mounted file or else from the container's environment, waits for
the data services it names, runs ``postinstall`` in ~/current, then replaces itself with
supervisord in the foreground (SIGTERM to the container is then Supervisor's stop: each
program gets its own stop signal, so Celery workers shut down warm). Started as root (by
``python3 -I`` on the platform's own copy: nothing of the app's is imported), it reads only the
root-only file mounted in /run/secrets, hands the container's output, its writable mount points
and the data volume to the image's unprivileged account (no link followed, the volume walked by
folder descriptors) and gives root up before it reads or writes anything of the app's; started
as that account (a Kubernetes pod, a Compose service), it does the same without the hand-over,
and stops in one line when the data volume is not the account's.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pwd
import re
import secrets
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from platform_sim import isolated
from platform_sim.appfile.buildfile import Service
from platform_sim.appfile.environment import (
    HOME_INSIDE,
    TRUSTED_PROXIES_VARIABLE,
    VARIABLE_NAME,
    process_environment,
    render_json,
    render_yaml,
)
from platform_sim.containers.facts import CODE_USER, PLATFORM_INSIDE, SECRETS_INSIDE, SYSTEM_PYTHON
from platform_sim.containers.probe import Address, probe
from platform_sim.errors import PlatformError
from platform_sim.files import write_text
from platform_sim.hosts.instance import postinstall_command, supervisorctl_script
from platform_sim.kinds.registry import known_tags
from platform_sim.render import nginx, supervisor

HOME = Path(HOME_INSIDE)
MOUNTED = Path(SECRETS_INSIDE)
ENVIRONMENT_FILES = ("environment.json", "environment.yml", "environment.yaml")
PLATFORM = Path(PLATFORM_INSIDE)
PYTHON = SYSTEM_PYTHON
LOG_DIRS = ("/var/log/supervisor", "/var/log/nginx")
CONTROL_PORT = 9001
WAIT_TIMEOUT = 180.0
# The container's own variables, not the application's.
PROCESS_VARIABLES = frozenset(
    ["PATH", "HOME", "HOSTNAME", "TERM", "PWD", "OLDPWD", "SHLVL", "LANG", "container", "_",
     "PYTHONPATH", "PYTHONUNBUFFERED", "VIRTUAL_ENV", "USER", "LOGNAME", "SHELL"]
)
PROCESS_PREFIXES = ("PIP_", "LC_")
DATA_ADDRESS = re.compile(rf"^DOTCLOUD_([A-Z0-9_]+)_({'|'.join(known_tags())})_HOST$")
LOG_PROGRAM = """
[program:platform-logs]
command = {command}
; started first, stopped last: the programs' last lines (a job finishing) still get out
priority = 1
stopwaitsecs = 10
autostart = true
autorestart = true
stdout_logfile = /dev/stdout
stdout_logfile_maxbytes = 0
redirect_stderr = true
"""


class EntryError(PlatformError):
    """The container cannot start its service (printed as one line; the container exits 1)."""


def say(text: str) -> None:
    """One line of the entrypoint's own, in the container's log."""
    print(f"[platform] {text}", flush=True)


def application_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The container's variables that belong to the application (what environment.json holds)."""
    return {
        key: value
        for key, value in environ.items()
        if key not in PROCESS_VARIABLES
        and not key.startswith(PROCESS_PREFIXES)
        and VARIABLE_NAME.fullmatch(key)
    }


def environment_file(home: Path, mounted: Path = MOUNTED) -> Path | None:
    """The environment file to read: one mounted in ``mounted`` (root-only secrets) first, then
    one in the home (mounted there, or written at an earlier start); None: none of them. A link
    is found too, and refused when read."""
    for folder in (mounted, home):
        for name in ENVIRONMENT_FILES:
            if os.path.lexists(folder / name):
                return folder / name
    return None


def load_environment(
    home: Path, environ: Mapping[str, str], mounted: Path = MOUNTED
) -> dict[str, str]:
    """A mounted environment file's variables (``environment_file``), else the container's."""
    return read_environment(environment_file(home, mounted), environ)


def read_file(path: Path) -> str:
    """The text of ``path``, opened without following a link and read only if it is a regular
    file (a FIFO or device is never read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise EntryError(f"{path} is a symbolic link: mount the file itself") from exc
        if exc.errno == errno.EACCES and path.parent == MOUNTED:
            raise EntryError(
                f"{path} cannot be read by uid {os.getuid()}: give the file to that uid "
                "(platform_sim export compose run as root does) or start the container as root"
            ) from exc
        if exc.errno == errno.EACCES:
            raise EntryError(
                f"{path} cannot be read by the app's account: mount it in {MOUNTED}/ instead "
                "(platform_sim export compose does)"
            ) from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise EntryError(f"{path} is not a regular file")
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError(f"{path} is not UTF-8 (byte {exc.start})") from exc


def parse_problem(exc: Exception) -> str:
    """What is wrong in an environment file and where, never quoting the file's text."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())


def read_environment(path: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of environment file ``path``; without one, the container's."""
    if path is None:
        return dict(sorted(application_variables(environ).items()))
    text = read_file(path)
    import yaml

    try:
        data = json.loads(text) if path.name.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise EntryError(f"{path} is not valid: {parse_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise EntryError(f"{path} must hold a mapping of variables")
    return {str(key): str(value) for key, value in data.items()}


def write_owner_only(path: Path, text: str, *, replace: bool = False) -> None:
    """Write an owner-only file (never through a link); one that exists is kept (a file mounted
    in the home is never replaced) unless ``replace``."""
    if not replace and os.path.lexists(path):
        return
    write_text(path, text)


def behind_a_proxy(environment: Mapping[str, str]) -> bool:
    """Whether a proxy stands before the container's nginx (Kubernetes: the Ingress; its
    X-Forwarded-Proto is believed), per TRUSTED_PROXIES; not under Compose, where the client
    reaches this nginx, the outermost proxy, directly."""
    count = environment.get(TRUSTED_PROXIES_VARIABLE, "").strip()
    return count.isascii() and count.isdigit() and int(count) > 1


def lay_out(
    home: Path,
    described: Mapping,
    environment: Mapping[str, str],
    log_dirs: tuple[str, ...] = LOG_DIRS,
    *,
    replace: bool = False,
) -> str:
    """The platform's files in the home; returns the supervisord.conf path. ``replace``: the
    environment files are written afresh (read from elsewhere than the home)."""
    write_owner_only(home / "environment.json", render_json(environment), replace=replace)
    write_owner_only(home / "environment.yml", render_yaml(environment), replace=replace)
    if not (home / "environment.yaml").exists():
        (home / "environment.yaml").symlink_to("environment.yml")
    platform = home / "platform"
    for folder in ("bin", *(f"nginx/{t}" for t in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                   "scgi"))):
        (platform / folder).mkdir(parents=True, exist_ok=True)
    for folder in log_dirs:
        Path(folder).mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(exist_ok=True)
    write_text(platform / "bin" / "supervisorctl", supervisorctl_script(PYTHON), 0o700)
    if described.get("web_port"):
        text = nginx.render_instance(
            app=described["app"], instance=f"{described['service']}.0", generation=0,
            home=str(home), port=described["web_port"], address="0.0.0.0",  # noqa: S104
            user=None,  # nginx runs as the service's account already
            proxies=nginx.ANY_SENDER if behind_a_proxy(environment) else None,
        )
        (platform / "nginx.conf").write_text(text)
    programs = supervisor.platform_programs(
        described["type"], described["processes"], home=str(home), nginx="/usr/sbin/nginx",
        wsgi_processes=described["wsgi_processes"],
    )
    main = supervisor.render_main(
        app=described["app"], instance=f"{described['service']}.0", generation=0,
        home=str(home), control_port=CONTROL_PORT, control_password=secrets.token_urlsafe(18),
        programs=programs,
    )
    follower = isolated.command(PYTHON, "platform_sim.containers.log_relay", *LOG_DIRS)
    conf = platform / "supervisord.conf"
    write_text(conf, main + LOG_PROGRAM.format(command=supervisor.escape(shlex.join(follower))))
    return str(conf)


@dataclass(frozen=True)
class Account:
    """The unprivileged account the app's code runs as."""

    name: str
    uid: int
    gid: int


def code_account(user: str = CODE_USER) -> Account | None:
    """The account to hand over to when this process runs as root; None when it does not."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise EntryError(
            f"the image has no {user} account: build it again with `platform_sim image build`"
        ) from exc
    return Account(user, entry.pw_uid, entry.pw_gid)


def hand_over(home: Path, account: Account, log_dirs: tuple[str, ...]) -> None:
    """What root does for the account before giving root up: the container's output
    (supervisord opens /dev/stdout again for the programs' logs), the folders it writes in, the
    home and ``log_dirs`` (a fresh tmpfs of a read-only container is root's: the folder itself,
    not what it holds) and the data volume (an earlier image may have filled it as root).
    Nothing else of the home: the account owns it. The volume is walked by folder descriptors,
    never following a link, so a folder the app (or another replica sharing the volume) swaps
    for a link while root walks changes nothing outside the volume."""
    for fd in (1, 2):
        with contextlib.suppress(OSError):  # not a pipe or terminal of ours: left as it is
            os.fchown(fd, account.uid, account.gid)
    for folder in (home, *map(Path, log_dirs)):
        with contextlib.suppress(FileNotFoundError), opened_folder(folder) as fd:
            if fd is not None:
                os.fchown(fd, account.uid, account.gid)
    with opened_folder(home / "data") as data:
        if data is None:
            return
        for _, folders, files, fd in os.fwalk(".", dir_fd=data):  # links are not followed
            for name in (*folders, *files):
                os.chown(name, account.uid, account.gid, dir_fd=fd, follow_symlinks=False)
        os.fchown(data, account.uid, account.gid)


@contextlib.contextmanager
def opened_folder(path: Path) -> Iterator[int | None]:
    """A descriptor of folder ``path`` (its last component not followed); None: a link or not
    a folder."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            yield None
            return
        raise
    try:
        yield fd
    finally:
        os.close(fd)


def check_data_writable(data: Path) -> None:
    """Refuse, in one line saying how to fix it, a data volume the account cannot write (one an
    earlier, root-started container filled as root; a fresh volume copies the image's owner)."""
    if data.is_dir() and not os.access(data, os.W_OK):
        raise EntryError(
            f"{data} (the data volume) is not writable by uid {os.getuid()}: an earlier "
            f"container filled it as root; give it to that uid once (as root on the host: "
            f"chown -R {os.getuid()}:{os.getgid()} \"$(podman volume inspect VOLUME --format "
            "'{{.Mountpoint}}')\")"
        )


def become(account: Account) -> None:
    """Give up root for the account, for good (this process and what it starts or execs)."""
    os.setgroups([])
    os.setgid(account.gid)
    os.setuid(account.uid)


def data_addresses(environment: Mapping[str, str]) -> dict[str, Address]:
    """The data services the environment names: service → its address and login."""
    found = {}
    for key, host in environment.items():
        match = DATA_ADDRESS.match(key)
        prefix = key[: -len("HOST")]
        port = environment.get(prefix + "PORT", "")
        if match and port.isdigit():
            login = environment.get(prefix + "LOGIN", "")
            found[match.group(1).lower()] = Address(host, int(port), match.group(2), login)
    return found


def wait_for_data(
    addresses: Mapping[str, Address],
    timeout: float = WAIT_TIMEOUT,
    ready: Callable[[Address], None] = probe,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Wait until every data service is ready for sessions (they start beside us)."""
    deadline = clock() + timeout
    for name, address in addresses.items():
        while True:
            try:
                ready(address)
                break
            except OSError as exc:
                if clock() >= deadline:
                    raise EntryError(
                        f"data service {name} ({address.host}:{address.port}) was not ready "
                        f"within {timeout:g} s: {exc}"
                    ) from exc
                time.sleep(1)


def run_postinstall(home: Path, described: Mapping, env: Mapping[str, str]) -> None:
    """The postinstall hook in ~/current (the build file's, else ./postinstall)."""
    service = Service(name=described["service"], type=described["type"],
                      postinstall=described.get("postinstall"))
    hook = postinstall_command(service, home / "current")
    if hook is None:
        return
    say(f"running postinstall ({hook[-1]})")
    status = subprocess.run(hook, cwd=home / "current", env=dict(env), check=False).returncode
    if status != 0:
        raise EntryError(f"postinstall exited with status {status}")


def main(environ: Mapping[str, str] | None = None) -> int:
    """Prepare the instance, then exec supervisord (returns only on failure)."""
    environ = os.environ if environ is None else environ
    # As PID 1 a signal without a handler is ignored: stop at once while still preparing.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    described = json.loads((PLATFORM / "service.json").read_text())
    try:
        source = environment_file(HOME)
        secret = source is not None and source.parent == MOUNTED
        # Root reads the root-only secrets and nothing else; a file in the home is the account's.
        environment = read_environment(source, environ) if secret else None
        account = code_account()
        if account is not None:
            hand_over(HOME, account, LOG_DIRS)
            become(account)
        check_data_writable(HOME / "data")
        if environment is None:
            environment = read_environment(source, environ)
        conf = lay_out(HOME, described, environment, replace=secret)
        env = process_environment(environment, home=str(HOME))
        wait_for_data(data_addresses(environment))
        run_postinstall(HOME, described, env)
    except (EntryError, OSError) as exc:
        print(f"[platform] error: {exc}", file=sys.stderr, flush=True)
        return 1
    say(f"starting supervisord ({described['service']}, {described['type']})")
    os.chdir(HOME)
    os.execve("/usr/bin/supervisord", ["supervisord", "-n", "-c", conf], env)  # noqa: S606
    return 1  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
