"""The supervisord control channel never shows its password in an error message."""

import http.server
import threading
import xmlrpc.client

import pytest

from platform_sim.render import supervisor

PASSWORD = "s3cret-Pa55"


class Refusing(http.server.BaseHTTPRequestHandler):
    """Answers every XML-RPC call with 401, as a supervisord given the wrong password does."""

    def do_POST(self):  # noqa: N802 - the base class's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(401, "Unauthorized")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_port():
    server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_protocol_error_is_described_without_the_password(refusing_port):
    control = supervisor.Control(refusing_port, PASSWORD)
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        control.restart_all()
    assert PASSWORD in str(caught.value)
    described = control.describe(caught.value)
    assert PASSWORD not in described
    assert "401 Unauthorized" in described and "****@127.0.0.1" in described
    assert PASSWORD not in repr(control)
