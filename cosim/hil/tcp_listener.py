"""The listening socket every HIL server edge shares: bind (a free port with 0), then close with its connections.

Modbus, DNP3 and C37.118 edges differ in framing and in what they hand to the
SimPy thread, not in how they listen: each subclass implements ``_serve`` for
one connection and keeps its open writers in ``_writers``, so that
:meth:`stop` can end them (handlers then finish on EOF, not by cancellation).
"""

from __future__ import annotations

import asyncio

from .bridge import IoThread


class TcpListener:
    """Listens on ``host:port`` on the session's I/O loop; ``port=0`` picks a free port (see :attr:`port`)."""

    def __init__(self, io: IoThread, host: str, port: int) -> None:
        self.io, self.host, self.port = io, host, port
        self._listener: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> int:
        """Bind and listen (raises OSError if the port is taken); returns the port."""
        self._listener = self.io.call(asyncio.start_server(self._serve, self.host, self.port))
        self.port = self._listener.sockets[0].getsockname()[1]
        return self.port

    def stop(self) -> None:
        """Close the listener and every open connection; safe to call twice or after the loop closed."""
        listener, self._listener = self._listener, None
        if listener is None or self.io.loop.is_closed():
            return

        async def _close() -> None:
            listener.close()
            for writer in list(self._writers):
                writer.close()
            await asyncio.wait_for(listener.wait_closed(), 2.0)

        try:
            self.io.call(_close(), 3.0)
        except Exception:  # a socket that will not close must not keep the session alive
            pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
