"""The readiness probe of data services, against hand-written fake sockets."""

import struct

import pytest

from platform_sim.containers.probe import Address, probe
from platform_sim.errors import NotReadyYet
from platform_sim.kinds.postgresql import startup_message


class FakeSocket:
    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sent = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def sendall(self, data):
        self.sent += data

    def recv(self, size):
        return self.reply[:size]


def test_the_startup_message_is_protocol_3_with_user_and_database():
    message = startup_message("root")
    assert struct.unpack("!II", message[:8]) == (len(message), 196608)
    assert message[8:] == b"user\0root\0database\0postgres\0\0"


def test_postgresql_is_ready_when_it_asks_for_authentication():
    fake = FakeSocket(b"R\0\0\0\x17")
    probe(Address("db", 5432, "SQL", "root"), connect=lambda address, timeout: fake)
    assert fake.sent == startup_message("root")


def test_postgresql_starting_up_is_not_ready():
    fake = FakeSocket(b"E\0\0\0\x60SFATAL\0Cthe database system is starting up")
    with pytest.raises(NotReadyYet, match="not an authentication request"):
        probe(Address("db", 5432, "SQL", "root"), connect=lambda address, timeout: fake)


def test_rabbitmq_is_ready_when_its_port_accepts():
    fake = FakeSocket(b"")
    probe(Address("broker", 5672, "AMQP"), connect=lambda address, timeout: fake)
    assert fake.sent == b""
