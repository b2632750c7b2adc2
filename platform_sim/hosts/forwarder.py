"""The router's loopback forwarder: ``python -m platform_sim.hosts.forwarder PORT=HOST:PORT…``.

The router lives on the app's bridge; users reach it on 127.0.0.1. This process, in the
machine's own network namespace, accepts on 127.0.0.1:PORT and copies bytes both ways to
HOST:PORT, first sending a PROXY protocol (v1) line so that the router's nginx knows the real
client address (it adds no X-Forwarded-For entry of its own: not a proxy to count).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
from collections.abc import Sequence

from platform_sim.address import LOOPBACK

CHUNK = 65536


def proxy_header(client: tuple, server: tuple) -> bytes:
    """The PROXY protocol v1 line for a connection from ``client`` to ``server`` (host, port)."""
    family = "TCP6" if ":" in client[0] else "TCP4"
    return f"PROXY {family} {client[0]} {server[0]} {client[1]} {server[1]}\r\n".encode()


def parse_mapping(text: str) -> tuple[int, str, int]:
    """``PORT=HOST:PORT`` → (listen port, target host, target port); ValueError if malformed."""
    listen, sep, target = text.partition("=")
    host, colon, port = target.rpartition(":")
    if not sep or not colon or not host:
        raise ValueError(f"{text!r} is not PORT=HOST:PORT")
    ports = int(listen), int(port)
    if not all(0 < value < 65536 for value in ports):
        raise ValueError(f"{text!r}: ports are 1-65535")
    return ports[0], host, ports[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of file, then half-close the other side."""
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _serve(
    host: str, port: int, client: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    """One connection: open the target, send the PROXY line, copy both ways."""
    try:
        target, target_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    header = proxy_header(
        client_writer.get_extra_info("peername"), client_writer.get_extra_info("sockname")
    )
    target_writer.write(header)
    try:
        await asyncio.gather(_pipe(client, target_writer), _pipe(target, client_writer))
    finally:
        for writer in (client_writer, target_writer):
            writer.close()


async def start(
    mappings: Sequence[tuple[int, str, int]], listen: str = LOOPBACK
) -> list[asyncio.Server]:
    """Listen on ``listen`` for each mapping; return the servers (already accepting)."""
    return [
        await asyncio.start_server(
            functools.partial(_serve, host, port), listen, listen_port, reuse_address=True
        )
        for listen_port, host, port in mappings
    ]


async def _main(mappings: Sequence[tuple[int, str, int]]) -> None:
    servers = await start(mappings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Forward each ``PORT=HOST:PORT`` until SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m platform_sim.hosts.forwarder", description=__doc__
    )
    parser.add_argument("mapping", nargs="+", help="PORT=HOST:PORT (127.0.0.1:PORT → HOST:PORT)")
    args = parser.parse_args(argv)
    try:
        mappings = [parse_mapping(text) for text in args.mapping]
    except ValueError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(_main(mappings))
    except OSError as exc:
        parser.exit(1, f"forwarder: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
