"""The log merger: last lines, following growing, truncated and rotated files, prefixes."""

import io
from pathlib import Path

import pytest

from platform_sim.hosts.instance import Instance
from platform_sim.ops.logs import LogStream, data_logs, follow, instance_logs
from platform_sim.ops.tail import LogFile, Tailer, last_lines
from platform_sim.services.provision import DataService


def append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


@pytest.mark.parametrize(
    ("text", "count", "lines"),
    [
        ("", 3, []),
        ("one\n", 3, ["one"]),
        ("one\ntwo\nthree\n", 2, ["two", "three"]),
        ("one\ntwo\nthree\n", 0, []),
        ("one\ntwo\npartial", 5, ["one", "two"]),  # an unfinished line waits for its end
        ("crlf\r\n", 1, ["crlf"]),
        ("bad \xff byte\n", 1, ["bad \xff byte"]),
    ],
)
def test_last_lines(tmp_path, text, count, lines):
    path = tmp_path / "x.log"
    path.write_text(text, encoding="latin-1" if "\xff" in text else "utf-8")
    with open(path, "rb") as handle:
        got = last_lines(handle, path.stat().st_size, count)
    assert got == [line.replace("\xff", "\ufffd") for line in lines]


def test_last_lines_across_blocks(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"line {n} {'x' * 500}\n" for n in range(100)))
    with open(path, "rb") as handle:
        got = last_lines(handle, path.stat().st_size, 30)
    assert [line.split()[1] for line in got] == [str(n) for n in range(70, 100)]


def test_tailer_returns_complete_new_lines_only(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("old 1\nold 2\n")
    tailer = Tailer(path)
    assert tailer.start(1) == ["old 2"]
    assert tailer.read() == []
    append(path, "new 1\nnew ")
    assert tailer.read() == ["new 1"]
    append(path, "2\n")
    assert tailer.read() == ["new 2"]


def test_tailer_starts_again_after_truncation(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("a long first line\n")
    tailer = Tailer(path)
    tailer.start(0)
    path.write_text("short\n")
    assert tailer.read() == ["short"]


def test_tailer_follows_a_rotated_file(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("")
    tailer = Tailer(path)
    tailer.start(0)
    append(path, "before rotation\n")
    path.rename(tmp_path / "a.log.1")
    append(tmp_path / "a.log.1", "late line of the old file\n")
    path.write_text("first of the new file\n")
    assert tailer.read() == [
        "before rotation",
        "late line of the old file",
        "first of the new file",
    ]


def test_tailer_of_a_file_that_appears_later_reads_it_from_its_start(tmp_path):
    path = tmp_path / "later.log"
    tailer = Tailer(path)
    assert tailer.start(10) == [] and tailer.read() == []
    path.write_text("hello\n")
    assert tailer.read() == ["hello"]


def logs_of(tmp_path, label, *names):
    files = []
    for name in names:
        path = tmp_path / label / name
        path.parent.mkdir(exist_ok=True)
        path.touch()
        files.append(LogFile(label, path, f"/var/log/supervisor/{name}"))
    return files


def test_stream_prefixes_lines_and_announces_each_change_of_file(tmp_path):
    out = []
    worker, web = (
        logs_of(tmp_path, "workers.0", "djcelery.log"),
        logs_of(tmp_path, "www.0", "a.log"),
    )
    stream = LogStream(out.append)
    stream.start([*worker, *web], 10)
    append(worker[0].path, "job 1\njob 2\n")
    append(web[0].path, "GET /\n")
    assert stream.poll() == 3
    append(worker[0].path, "job 3\n")
    stream.poll()
    assert out == [
        "[workers.0] ==> /var/log/supervisor/djcelery.log <==",
        "[workers.0] job 1",
        "[workers.0] job 2",
        "[www.0] ==> /var/log/supervisor/a.log <==",
        "[www.0] GET /",
        "[workers.0] job 3",  # same file as this instance's previous line: no header
    ]


def test_stream_history_is_the_last_lines_of_each_file(tmp_path):
    out = []
    log = logs_of(tmp_path, "www.1", "gunicorn.log")[0]
    log.path.write_text("1\n2\n3\n")
    LogStream(out.append).start([log], 2)
    assert out == ["[www.1] ==> /var/log/supervisor/gunicorn.log <==", "[www.1] 2", "[www.1] 3"]


def test_watch_adds_new_files_and_keeps_old_ones_until_they_are_deleted(tmp_path):
    out = []
    old = logs_of(tmp_path, "old", "djcelery.log")[0]
    stream = LogStream(out.append)
    stream.start([old], 0)
    new = logs_of(tmp_path, "new", "djcelery.log")[0]
    new.path.write_text("started\n")
    stream.watch([new])  # a redeploy: the new deploy's files, read from their start
    append(old.path, "finishing the last job\n")
    stream.poll()
    assert sorted(out) == sorted(
        [
            "[new] ==> /var/log/supervisor/djcelery.log <==",
            "[new] started",
            "[old] ==> /var/log/supervisor/djcelery.log <==",
            "[old] finishing the last job",
        ]
    )
    append(old.path, "stopped\n")
    old.path.unlink()  # the old deploy's home is removed
    stream.watch([new])
    assert out[-1] == "[old] stopped"  # its last lines were not lost
    assert list(stream.tailers) == [new.path]


def test_follow_polls_and_refreshes_until_told_to_stop(tmp_path):
    out = []
    log = logs_of(tmp_path, "www.0", "a.log")[0]
    stream = LogStream(out.append)
    stream.start([log], 0)
    now = [0.0]
    rounds = []

    def sleep(seconds):
        now[0] += seconds
        append(log.path, f"tick {len(rounds)}\n")

    def refresh():
        rounds.append(now[0])
        return [log] if len(rounds) < 3 else None  # then the app is destroyed

    follow(stream, refresh, sleep=sleep, clock=lambda: now[0])
    assert len(rounds) == 3
    assert out[0] == "[www.0] ==> /var/log/supervisor/a.log <=="
    assert [line.split(" ", 1)[1] for line in out[1:4]] == ["tick 0"] * 3
    assert out[-1].startswith("[www.0] tick 2")


def test_follow_stops_when_keep_going_says_so(tmp_path):
    calls = []
    follow(
        LogStream(io.StringIO().write),
        lambda: calls.append("refresh") or [],
        sleep=lambda seconds: calls.append(seconds),
        keep_going=lambda: len(calls) < 3,
    )
    assert calls == [0.2, 0.2, 0.2]


def test_instance_logs_are_named_as_the_instance_sees_them(tmp_path):
    home = tmp_path / "deploys" / "3" / "www.0"
    for name in ("log/supervisord.log", "log/gunicorn_error.log", "log/nginx/access.log"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).touch()
    (home / "log" / "gunicorn.log.1").touch()  # rotated copies are not followed
    instance = Instance("app", "www", "python", 0, 3, home, tmp_path / "data", 1, "pw")
    assert [(log.label, log.shown) for log in instance_logs(instance)] == [
        ("www.0", "/var/log/supervisor/gunicorn_error.log"),
        ("www.0", "/var/log/supervisor/supervisord.log"),
        ("www.0", "/var/log/nginx/access.log"),
    ]


@pytest.mark.parametrize(
    ("kind", "server_logs"),
    [
        ("postgresql", ["postgresql.log"]),
        ("mysql", ["mariadb.log"]),
        ("redis", ["redis.log"]),
        ("rabbitmq", ["log/rabbit@broker.log", "log/rabbit@broker_upgrade.log"]),
    ],
)
def test_data_logs_are_the_hosts_then_the_servers_own(tmp_path, kind, server_logs):
    service = DataService("svc", kind, tmp_path / "svc")
    for name in ("host.log", "data/redis.conf", "data/mnesia/rabbit@broker/x.log"):
        (service.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (service.folder / name).touch()
    for name in server_logs:
        (service.data / name).parent.mkdir(parents=True, exist_ok=True)
        (service.data / name).touch()
    assert [(log.label, log.path) for log in data_logs(service)] == [
        ("svc.0", service.log),
        *[("svc.0", service.data / name) for name in server_logs],
    ]
