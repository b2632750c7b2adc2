"""Redis: what every provider offers (database numbers on demand) and a local server."""

import contextlib
import secrets
import subprocess
from pathlib import Path

import redis

from machine.files import write_text

from . import process
from .base import Service
from .binaries import redis_server_path
from .errors import ServiceError
from .ports import LOOPBACK, ensure_port_free, free_port, port_is_free
from .redis_config import render_config
from .state import load_state, new_password, save_state
from .urls import redis_url
from .workdir import WorkDir

CLAIM_PREFIX = "minestrone:claimed-db:"  # in database 0: which numbers are handed out
CLAIM_SECONDS = 24 * 3600  # a claim a crashed run never released expires


class RedisService(Service):
    """A Redis server, whoever provides it: URLs, readiness PING, database numbers on demand."""

    kind = "redis"
    db = 0

    @property
    def url(self) -> str:
        """The URL of database 0."""
        return self.db_url(self.db)

    def db_url(self, number: int) -> str:
        """The URL of database ``number`` on this server."""
        return redis_url(self.password, self.host, self.port, number, self.user)

    def client(self, number: int = 0, timeout: float = 10) -> redis.Redis:
        """A client of database ``number``, logged in."""
        return redis.Redis.from_url(
            self.db_url(number), socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def check_ready(self) -> None:
        """PING with the password; raises until the server answers PONG."""
        with contextlib.closing(self.client(timeout=2)) as client:
            if client.ping() is not True:
                raise ServiceError(f"{self!r} did not answer PONG")

    def claim_db(self) -> int:
        """A database number no one else holds (empty), marked as ours in database 0."""
        token = secrets.token_hex(8)
        try:
            with contextlib.closing(self.client()) as admin:
                for number in range(1, self._databases(admin)):
                    key = f"{CLAIM_PREFIX}{number}"
                    if not admin.set(key, token, nx=True, ex=CLAIM_SECONDS):
                        continue
                    with contextlib.closing(self.client(number)) as client:
                        if client.dbsize() == 0:
                            return number
                    admin.delete(key)  # not empty: someone's data, not a claim of ours
        except redis.RedisError as exc:
            raise ServiceError(f"cannot claim a database number on {self!r}: {exc}") from exc
        raise ServiceError(f"every database number of {self!r} is taken or holds data")

    def release_db(self, number: int) -> None:
        """Empty database ``number`` and hand its number back."""
        try:
            with contextlib.closing(self.client(number)) as client:
                client.flushdb()
            with contextlib.closing(self.client()) as admin:
                admin.delete(f"{CLAIM_PREFIX}{number}")
        except redis.RedisError as exc:
            raise ServiceError(f"cannot release database {number} on {self!r}: {exc}") from exc

    @staticmethod
    def _databases(admin: redis.Redis) -> int:
        """How many database numbers the server has (16, Redis's default, if it won't say)."""
        try:
            return int(admin.config_get("databases").get("databases", 16))
        except redis.ResponseError:  # CONFIG refused to this user
            return 16


class LocalRedis(RedisService):
    """A Redis server run from the local ``redis-server``, in a directory we own.

    ``data_dir`` None: a temporary directory, removed by stop(). Given: kept, and reused with
    the same password (stored in its ``service.json``) when started again. Writes go to an
    append-only file synced as ``appendfsync`` says: ``always`` (the default) syncs each
    write before answering it, so an acknowledged publish survives a crash of Redis;
    ``everysec`` is faster and may lose the last second.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        port: int | None = None,
        appendfsync: str = "always",
        start_timeout: float = 30.0,
        program: Path | None = None,
        host: str = LOOPBACK,
        user: str = "",  # noqa: ARG002 - Redis's default user has no name in URLs
    ) -> None:
        super().__init__()
        self.host = host
        self.workdir = WorkDir(data_dir, prefix="minestrone-redis-")
        self.requested_port = port
        self.appendfsync = appendfsync
        self.start_timeout = start_timeout
        self.program = program
        self.pid: int | None = None
        self._server: subprocess.Popen | None = None

    @property
    def directory(self) -> Path | None:
        """The server's directory (None before start and after a temporary one is removed)."""
        return self.workdir.path

    @property
    def log_path(self) -> Path:
        """Where the server writes."""
        if self.directory is None:
            raise ServiceError(f"{self!r} has no directory before start()")
        return self.directory / "redis.log"

    def _read_log(self, lines: int) -> str:
        return process.log_tail(self.log_path, lines) if self.directory else ""

    def _start(self) -> None:
        self.program = self.program or redis_server_path()
        directory = self.workdir.open()
        state = load_state(directory) or {}
        self.password = state.get("password") or new_password()
        self.port = self._choose_port(state.get("port"))
        save_state(directory, {"password": self.password, "port": self.port})
        config = directory / "redis.conf"
        write_text(  # owner-only from the start: it holds the password's hash
            config,
            render_config(
                directory, self.port, self.password, host=self.host, appendfsync=self.appendfsync
            ),
        )
        self._server = process.spawn(
            [str(self.program), str(config)], log_path=self.log_path, cwd=directory
        )
        self.pid = self._server.pid
        process.wait_until_ready(
            self.check_ready,
            alive=lambda: self._server.poll() is None,
            timeout=self.start_timeout,
            what="Redis",
            tail=self.log_tail,
        )

    def _choose_port(self, stored: int | None) -> int:
        if self.requested_port is not None:
            ensure_port_free(self.requested_port, "Redis", self.host)
            return self.requested_port
        if stored is not None and port_is_free(stored, self.host):
            return stored
        return free_port(self.host)

    def alive(self) -> bool:
        """Whether the server started by start() still runs."""
        return self.running and self._server is not None and self._server.poll() is None

    def _stop(self) -> None:
        if self._server is not None:
            # SIGTERM: Redis syncs its append-only file and exits; its group is killed after
            process.stop_child(self._server, timeout=30)
            self._server = None

    def _cleanup(self) -> None:
        self.workdir.close()
