"""The browser tests' Chromium runs in a network namespace of its own, holding only a loopback
link (so the links other tests create never drop its loads), and reaches this machine's loopback
addresses, and nothing else, through the namespace's SOCKS5 gateway."""

import http.server
import subprocess
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error

from tests.integration.browser import chromium
from tests.pace import within


@pytest.fixture
def loopback_site():
    """A plain HTTP server on this machine's loopback."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.RequestHandlerClass = Hello
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


class Hello(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a small page."""

    def do_GET(self):  # noqa: N802 (the handler's API)
        body = b"<title>hello</title><p>through the gateway</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def links(namespace: str) -> list[str]:
    shown = subprocess.run(
        ["nsenter", f"--net={namespace}", "ip", "-o", "link", "show"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split(":")[1].strip() for line in shown.splitlines()]


def test_pages_on_loopback_load_through_the_gateway_of_a_namespace_with_only_lo(loopback_site):
    with chromium() as browser:
        network = browser.network
        assert links(network.namespace) == ["lo"]
        page = browser.new_page()
        response = page.goto(f"http://{loopback_site}/")
        assert (response.status, page.title()) == (200, "hello")
        assert loopback_site in network.reached
        namespace = network.namespace
    deadline = time.monotonic() + within(5)  # the gateway's thread is gone, and with it
    while Path(namespace).exists() and time.monotonic() < deadline:  # the namespace
        time.sleep(0.05)
    assert not Path(namespace).exists()


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("http://198.18.0.1:8000/", "198.18.0.1:8000"),
        ("http://minestrone.invalid/", "minestrone.invalid:80"),
    ],
)
def test_anything_but_loopback_is_refused(url, destination):
    with chromium() as browser:
        page = browser.new_page()
        with pytest.raises(Error, match="ERR_"):
            page.goto(url, timeout=10_000)
        assert destination in browser.network.refused
        assert browser.network.reached == []
