"""Through the real router and instance nginx to the real Django: the outermost proxy says its
own scheme, whatever the client claims; an inner nginx believes only the proxy before it."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from backing_services.ports import free_ports
from platform_sim.render import nginx

REPO = Path(__file__).resolve().parents[3]
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


def request_from(source: str, port: int, headers: dict[str, str]) -> tuple[int, str]:
    """Status and Location of GET /admin/login/ on 127.0.0.1:``port``, sent from ``source``."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/admin/login/", headers=headers)
        response = connection.getresponse()
        return response.status, response.headers.get("Location", "")
    finally:
        connection.close()


def request(url: str, headers: dict[str, str]) -> tuple[int, str]:
    """Status and Location of a GET, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"{process.args[0]} exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


@pytest.fixture
def chain(tmp_path, request):
    """Router nginx → instance nginx → gunicorn running minestrone with DJANGO_BEHIND_HTTPS=1:
    (the router's URL, the instance's port). The instance believes the proxies the test's
    ``proxies`` parameter names (platform_sim's: the router, on loopback)."""
    proxies = getattr(request, "param", nginx.platform_proxy("127.0.0.1"))
    if NGINX is None or os.geteuid() != 0:
        pytest.fail("needs nginx (bin/bootstrap) and root, as platform_sim's tests do")
    home = tmp_path / "home"
    (home / "current").mkdir(parents=True)
    (home / "platform" / "nginx").mkdir(parents=True)
    router = tmp_path / "router"
    (router / "tmp").mkdir(parents=True)
    public, instance = free_ports(2)
    text = nginx.render_instance(
        app="soup",
        instance="www.0",
        generation=1,
        home=str(home),
        port=instance,
        proxies=proxies,
    )
    (home / "platform" / "nginx.conf").write_text(
        text.replace("/var/log/nginx/", f"{tmp_path}/instance-")
    )
    (router / "nginx.conf").write_text(
        nginx.render_router(
            app="soup",
            generation=1,
            directory=str(router),
            services={"www": (public, [instance])},
        )
    )
    socket = home / "platform" / "wsgi.sock"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "MINESTRONE_ENV_FILE": "",
        "DJANGO_SECRET_KEY": "forwarded-proto-test-" + "k" * 50,
        "DJANGO_DEBUG": "0",
        "DJANGO_BEHIND_HTTPS": "1",
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"unix:{socket}",
                "--workers",
                "1",
                "wsgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_for(socket, processes[0])
        for conf, pid in (
            (home / "platform" / "nginx.conf", home / "platform" / "nginx.pid"),
            (router / "nginx.conf", router / "nginx.pid"),
        ):
            processes.append(
                subprocess.Popen([NGINX, "-c", str(conf), "-e", str(tmp_path / "error.log")])
            )
            wait_for(pid, processes[-1])
        yield f"http://127.0.0.1:{public}", instance
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


HTTPS = {"X-Forwarded-Proto": "https"}


def redirected_to_https(answer: tuple[int, str]) -> bool:
    """Django (behind HTTPS) saw plain HTTP and sent the browser to https."""
    status, location = answer
    return status == 301 and location.startswith("https://")


def test_a_clients_forwarded_proto_never_passes_the_router(chain):
    router, _ = chain
    page = router + "/admin/login/"
    assert redirected_to_https(request(page, HTTPS))
    assert redirected_to_https(request(page, {}))


def test_the_instance_believes_its_router_and_no_one_else(chain):
    _, instance = chain
    assert request_from("127.0.0.1", instance, HTTPS) == (200, "")  # the router's address
    assert redirected_to_https(request_from("127.0.0.1", instance, {}))
    assert redirected_to_https(request_from("127.0.0.2", instance, HTTPS))  # another sender


@pytest.mark.parametrize("chain", [None], indirect=True)
def test_the_outermost_nginx_of_a_container_believes_no_one(chain):
    # Compose: the client reaches the container's nginx directly
    _, instance = chain
    assert redirected_to_https(request_from("127.0.0.1", instance, HTTPS))


@pytest.mark.parametrize("chain", [nginx.ANY_SENDER], indirect=True)
def test_a_pods_nginx_believes_the_ingress_in_front(chain):
    # Kubernetes: only the Ingress reaches the web pods (NetworkPolicy), it says the scheme
    _, instance = chain
    assert request_from("127.0.0.2", instance, HTTPS) == (200, "")
    assert redirected_to_https(request_from("127.0.0.2", instance, {}))
