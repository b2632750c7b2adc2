"""The load of the fault bench and what it observes: uniquely named jobs sent through the editor
form and directly to the broker, the site probed for 503s, completions read from the workers'
logs (``platform_sim logs workers``) and the camera's TaskState rows read from the database
(PostgreSQL or MySQL)."""

from __future__ import annotations

import contextlib
import http.client
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

TASK = "minestrone.soup.tasks.lazy_job"
# The tutorial's exchange as the app declares it. On Redis an exchange's type is known only to
# the client that declared it: a client that publishes to "default" without declaring it routes
# as a direct exchange, matches no binding of the topic "tasks.#", and the job is dropped.
EXCHANGE = {"name": "default", "type": "topic", "durable": True}
STARTED = re.compile(r"Starting the lazy job: (\S+)")
COMPLETED = re.compile(r"Lazy job (\S+) completed")
RETRY_SECONDS = 1.0


class FormSender:
    """The editor form through the router, as a visitor: GET for the CSRF token, then POST."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def _request(self, method: str, path: str, body: str | None = None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            cookies = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(
                method, path, body=body, headers={"Cookie": cookies, **(headers or {})}
            )
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
            return response.status, text
        finally:
            connection.close()

    def send(self, name: str) -> str:
        """Queue ``name``; "" when the site took it (302), else what it answered."""
        status, page = self._request("GET", "/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            return f"editor page: HTTP {status}"
        form = {"csrfmiddlewaretoken": token.group(1), "job_name": name, "routing_key_name": "soup"}
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://{self.host}:{self.port}/",
        }
        status, _ = self._request("POST", "/", urlencode(form), headers)
        return "" if status == 302 else f"form: HTTP {status}"


class DirectSender:
    """Celery's send_task from this machine to the broker across the app's bridge."""

    def __init__(self, broker_url: str) -> None:
        from celery import Celery  # noqa: PLC0415 - only the bench needs a client app
        from kombu import Exchange  # noqa: PLC0415

        # not the current app: it must never take over the project's shared tasks
        self.app = Celery("bench-faults", broker=broker_url, set_as_current=False)
        self.app.conf.update(
            broker_transport_options={"confirm_publish": True},
            broker_connection_timeout=3,
            broker_connection_retry_on_startup=False,
            task_send_sent_event=True,
            task_default_delivery_mode="persistent",
            task_serializer="json",
        )
        self.exchange = Exchange(**EXCHANGE)

    def send(self, name: str) -> str:
        """Publish ``name`` (confirmed by RabbitMQ); "" when it took it, else the error."""
        try:
            self.app.send_task(
                TASK,
                args=[name],
                exchange=self.exchange,
                declare=[self.exchange],
                routing_key="tasks.soup",
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
            )
        except Exception as exc:  # noqa: BLE001 - any failure means "not taken", retried
            return f"direct: {type(exc).__name__}: {exc}"[:200]
        return ""

    def close(self) -> None:
        """Drop the client's connections."""
        with contextlib.suppress(Exception):
            self.app.close()


@dataclass
class Sender:
    """Sends ``count`` jobs, alternately by form and directly, one every ``pace`` seconds; a
    refused send is tried again (same name) until taken. The last job waits for ``last_gate``
    (the fault's end), so that a job always runs after the fault."""

    names: list[str]
    form: FormSender
    direct: DirectSender
    last_gate: threading.Event
    pace: float = 0.5
    give_up_after: float = 180.0
    accepted: dict[str, float] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        for index, name in enumerate(self.names):
            if index == len(self.names) - 1:
                self.last_gate.wait()
            channel = self.form if index % 2 == 0 else self.direct
            deadline = time.monotonic() + self.give_up_after
            while not self._stop.is_set():
                try:
                    error = channel.send(name)
                except (OSError, http.client.HTTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if not error:
                    self.accepted[name] = time.monotonic()
                    break
                self.refused.append(error)
                if time.monotonic() > deadline:
                    self.unsent.append(name)
                    break
                time.sleep(RETRY_SECONDS)
            if self._stop.wait(self.pace):
                return

    def start(self) -> None:
        """Start sending in the background."""
        self.thread.start()

    def stop(self) -> None:
        """Stop sending (after the send in progress)."""
        self._stop.set()
        self.last_gate.set()
        self.thread.join(timeout=60)


class Completions:
    """Follows ``platform_sim logs workers``: when each job started and completed, by name.

    ``attached`` is set at the first line read: started with ``-n 1``, the follower prints the
    log's last line at once, so that the jobs are sent only once it follows (a follower slow to
    start on a busy machine would otherwise miss the first jobs' lines).
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self.started: dict[str, list[float]] = {}
        self.completed: dict[str, list[float]] = {}
        self.attached = threading.Event()  # the first line arrived: following from here on
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            now = time.monotonic()
            self.attached.set()
            for pattern, seen in ((STARTED, self.started), (COMPLETED, self.completed)):
                match = pattern.search(line)
                if match:
                    with self._lock:
                        seen.setdefault(match.group(1), []).append(now)

    def counts(self, names: list[str]) -> dict[str, int]:
        """How many times each name completed."""
        with self._lock:
            return {name: len(self.completed.get(name, [])) for name in names}

    def first_after(self, names: list[str], moment: float) -> float | None:
        """When the first job that started after ``moment`` completed (None: none yet)."""
        with self._lock:
            ends = [
                end
                for name in names
                for end in self.completed.get(name, [])
                if any(moment <= start <= end for start in self.started.get(name, []))
            ]
        return min(ends, default=None)

    def close(self) -> None:
        """Stop following."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Probe:
    """GET /active/ through the router every ``interval`` seconds; the time spent answering 503."""

    def __init__(self, url: str, interval: float = 0.5) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.interval = parts.hostname, parts.port, interval
        self.samples: list[tuple[float, float, int | str]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                connection.request("GET", "/active/")
                outcome: int | str = connection.getresponse().status
                connection.close()
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            self.samples.append((began, time.monotonic(), outcome))
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start probing."""
        self.thread.start()

    def stop(self) -> None:
        """Stop probing."""
        self._stop.set()
        self.thread.join(timeout=60)

    def seconds_503(self) -> float:
        """Seconds between the first and the end of the last request of each run of 503s."""
        total, run_start = 0.0, None
        for began, ended, outcome in self.samples:
            if outcome == 503:
                run_start = began if run_start is None else run_start
                run_end = ended
            elif run_start is not None:
                total += run_end - run_start
                run_start = None
        if run_start is not None:
            total += run_end - run_start
        return total

    def other_failures(self) -> list[str]:
        """Outcomes that were neither 200 nor 503."""
        return sorted({str(o) for _, _, o in self.samples if o not in (200, 503)})


def _connect(db: dict):  # noqa: ANN202 - a DB-API connection
    """A connection to the app's database as ``info`` describes it (``kind``: its type)."""
    if db.get("kind") == "mysql":
        import MySQLdb  # noqa: PLC0415 - only the bench needs a client

        return MySQLdb.connect(
            host=db["host"],
            port=int(db["port"]),
            user=db["login"],
            password=db["password"],
            database=db.get("database", "minestrone"),
            connect_timeout=5,
        )
    import psycopg2  # noqa: PLC0415 - only the bench needs a client

    return psycopg2.connect(
        host=db["host"],
        port=db["port"],
        user=db["login"],
        password=db["password"],
        dbname=db.get("database", "minestrone"),
        connect_timeout=5,
    )


def camera_states(db: dict, token: str) -> dict[str, str]:
    """The camera's TaskState rows of this run's jobs: job name → state."""
    found: dict[str, str] = {}
    with contextlib.closing(_connect(db)) as conn, contextlib.closing(conn.cursor()) as cur:
        cur.execute("SELECT args, state FROM monitor_taskstate WHERE args LIKE %s", [f"%{token}%"])
        for args, state in cur.fetchall():
            for name in re.findall(rf"[\w.-]*{re.escape(token)}[\w.-]*", args or ""):
                if found.get(name) != "SUCCESS":
                    found[name] = state
    return found


def log(text: str) -> None:
    """One progress line on stderr."""
    print(f"bench.faults: {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)
