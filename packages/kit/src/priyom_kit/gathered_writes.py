"""The broker connection's frames written to the socket once a turn of the event loop, not one system call each.

aiormq's writer task writes every frame it takes from its queue (a publish, an ack, a confirm's request) with
its own ``StreamWriter.write``, and the event loop sends each at once: one ``send`` a frame. Under load the queue
holds several frames each time the task wakes (a batch's acks, its publishes), and each send costs more than
the frame's own marshalling: 3.6-8.3% of identity's, the router's and tickets' CPU went to
``StreamWriter.write`` in ``bench/e2e.py``'s profile. :class:`GatheredWriter` keeps what is written in one turn
and hands it to the transport at the end of the turn, joined, in the order written; closing first sends what is
kept. Nothing waits longer than the turn that wrote it. Under that load the services' writes went out in 48-74%
as many sends, and the writer's share of their CPU fell from 8.7, 4.8 and 10.8% to 5.0, 3.4 and 5.1%. (A
channel's publishes go one after another, each waiting for the last to be written, so they gather less than
acks, which do not wait.)

aiormq takes the reader and writer from a ``TransportFactory`` (its ``transport_factory`` argument, which
aio-pika's connection does not pass on: :func:`gathered` adds it to the connection's arguments).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiormq.connection import TCPTransportFactory, TLSTransportFactory, TransportFactory


class GatheredWriter:
    """A ``StreamWriter`` whose writes of one turn of the loop reach the transport as one."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._kept: list[bytes] = []
        #: Writes asked for and writes handed to the transport, for the tests (how much was gathered).
        self.writes = 0
        self.sends = 0

    def write(self, data: bytes) -> None:
        if not self._kept:
            asyncio.get_running_loop().call_soon(self._send)
        self._kept.append(data)
        self.writes += 1

    def _send(self) -> None:
        if not self._kept:
            return
        data = self._kept[0] if len(self._kept) == 1 else b"".join(self._kept)
        self._kept = []
        if not self._writer.is_closing():
            self._writer.write(data)
            self.sends += 1

    async def drain(self) -> None:
        # aiormq drains after every frame a caller waits on (each publish, each ack): sending here would undo
        # the gathering. What is kept is sent at the end of this turn, as the transport would send what its
        # buffer holds; the transport's own flow control (paused above its high-water mark) is still waited on.
        await self._writer.drain()

    def write_eof(self) -> None:
        self._send()
        self._writer.write_eof()

    def close(self) -> None:
        self._send()
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)  # is_closing, can_write_eof, wait_closed, transport


class GatheredTransportFactory(TransportFactory):
    """aiormq's own TCP or TLS connection (as the URL's scheme says), its writer a :class:`GatheredWriter`
    (the latest one in ``writer``: a robust connection makes a new one on each reconnect)."""

    def __init__(self) -> None:
        self.writer: GatheredWriter | None = None

    async def create(self, url: Any, **kwargs: Any) -> tuple[asyncio.StreamReader, Any]:  # a yarl URL
        factory = TLSTransportFactory() if url.scheme == "amqps" else TCPTransportFactory()
        reader, writer = await factory.create(url, **kwargs)
        self.writer = GatheredWriter(writer)
        return reader, self.writer


def gathered(connection_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``connection_kwargs`` (an aio-pika connection's, as parsed) with aiormq's writes gathered."""
    return {**connection_kwargs, "transport_factory": GatheredTransportFactory()}
