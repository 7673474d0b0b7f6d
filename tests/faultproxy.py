"""An asyncio TCP proxy on 127.0.0.1 that injects network faults between the app and
the simulated market (reliability.md §8.1): latency, bandwidth limits, slicing,
black holes, resets, data limits and refused connections, switchable at runtime."""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass(slots=True)
class Toxics:
    """The faults in force. Change them at any time; they apply to the next chunk."""

    latency: float = 0.0
    """Seconds added before each chunk is forwarded."""
    bandwidth: int | None = None
    """Bytes per second per direction, or None for unlimited."""
    slice_bytes: int | None = None
    """Forward in pieces of this many bytes ..."""
    slice_delay: float = 0.0
    """... with this delay between pieces."""
    blackhole: bool = False
    """Keep sockets open, drop every byte both ways."""
    limit_data: int | None = None
    """Close a connection after this many bytes downstream."""


class FaultProxy:
    """Forwards 127.0.0.1:<port> to a target on loopback, with toxics."""

    def __init__(self, target_port: int, target_host: str = LOOPBACK) -> None:
        self.target = (target_host, target_port)
        self.toxics = Toxics()
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, scheme: str) -> str:
        """``ws://127.0.0.1:PORT`` or ``http://...``."""
        return f"{scheme}://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        """Listen (again, on the same port after :meth:`refuse`)."""
        self._server = await asyncio.start_server(self._accept, LOOPBACK, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """Stop listening: new connections are refused. Existing ones are reset."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self.reset()

    def reset(self) -> None:
        """Send RST on every open connection (SO_LINGER 0, then abort)."""
        for down, up in list(self._links):
            for w in (down, up):
                sock = w.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    except OSError:
                        pass
                w.transport.abort()
        self._links.clear()

    async def stop(self) -> None:
        """Stop everything."""
        await self.refuse()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.toxics.latency:
            await asyncio.sleep(self.toxics.latency)
        try:
            u_reader, u_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.transport.abort()
            return
        link = (c_writer, u_writer)
        self._links.add(link)
        t1 = asyncio.create_task(self._pipe(c_reader, u_writer, downstream=False))
        t2 = asyncio.create_task(self._pipe(u_reader, c_writer, downstream=True))
        self._tasks |= {t1, t2}
        try:
            await asyncio.wait({t1, t2}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (t1, t2):
                t.cancel()
                self._tasks.discard(t)
            self._links.discard(link)
            for w in link:
                w.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, downstream: bool
    ) -> None:
        sent = 0
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            tox = self.toxics
            if tox.blackhole:
                continue
            if tox.latency:
                await asyncio.sleep(tox.latency)
            pieces = [chunk]
            if tox.slice_bytes:
                n = tox.slice_bytes
                pieces = [chunk[i : i + n] for i in range(0, len(chunk), n)]
            for piece in pieces:
                if downstream and tox.limit_data is not None and sent + len(piece) > tox.limit_data:
                    writer.write(piece[: max(0, tox.limit_data - sent)])
                    await writer.drain()
                    writer.transport.abort()
                    return
                writer.write(piece)
                await writer.drain()
                sent += len(piece)
                if tox.bandwidth:
                    await asyncio.sleep(len(piece) / tox.bandwidth)
                if tox.slice_delay and len(pieces) > 1:
                    await asyncio.sleep(tox.slice_delay)
