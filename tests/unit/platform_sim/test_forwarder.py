"""The router's loopback forwarder: the PROXY line first, then bytes both ways, half-closes."""

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_sim.hosts import forwarder


def test_proxy_header_names_client_then_server():
    line = forwarder.proxy_header(("127.0.0.2", 40000), ("127.0.0.1", 8080))
    assert line == b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 8080\r\n"


def test_proxy_header_for_ipv6():
    assert forwarder.proxy_header(("::1", 1), ("::1", 2)).startswith(b"PROXY TCP6 ::1 ::1 1 2")


def test_parse_mapping():
    assert forwarder.parse_mapping("8080=198.18.0.2:8080") == (8080, "198.18.0.2", 8080)


@pytest.mark.parametrize(
    "text", ["8080", "8080=", "8080=host", "x=h:1", "0=h:1", "1=h:70000", "1=:5"]
)
def test_malformed_mappings_are_refused(text):
    with pytest.raises(ValueError):
        forwarder.parse_mapping(text)


@given(st.text(max_size=30))
def test_parse_mapping_raises_only_value_error(text):
    try:
        listen, host, port = forwarder.parse_mapping(text)
    except ValueError:
        return
    assert 0 < listen < 65536 and 0 < port < 65536 and host


def test_bad_arguments_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        forwarder.main(["nonsense"])
    assert caught.value.code == 2
    assert "is not PORT=HOST:PORT" in capsys.readouterr().err


async def _round_trip(payload: bytes) -> tuple[bytes, bytes, tuple]:
    received = asyncio.Queue()

    async def target(reader, writer):
        header = await reader.readline()
        body = await reader.read()  # until the forwarder half-closes
        await received.put((header, body))
        writer.write(body.upper())
        await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(target, "127.0.0.1", 0)
    up_port = upstream.sockets[0].getsockname()[1]
    probe = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    servers = await forwarder.start([(port, "127.0.0.1", up_port)])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = writer.get_extra_info("sockname")
        writer.write(payload)
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        header, body = await asyncio.wait_for(received.get(), 10)
        assert body == payload
        return header, answer, client
    finally:
        for server in [*servers, upstream]:
            server.close()


def test_forwards_both_ways_after_the_proxy_line():
    payload = b"GET / HTTP/1.0\r\n\r\n" + b"x" * 200_000
    header, answer, client = asyncio.run(_round_trip(payload))
    assert answer == payload.upper()
    assert header.startswith(f"PROXY TCP4 127.0.0.1 127.0.0.1 {client[1]} ".encode())


def test_an_unreachable_target_closes_the_client():
    async def scenario():
        probe = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        dead = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        servers = await forwarder.start([(0, "127.0.0.1", dead)])
        port = servers[0].sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            return await asyncio.wait_for(reader.read(), 10)
        finally:
            servers[0].close()

    assert asyncio.run(scenario()) == b""
