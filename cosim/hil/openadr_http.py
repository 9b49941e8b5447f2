"""OpenADR 2.0b over real HTTP: a scenario's VTN served to real VENs (openleadr's ``OpenADRClient``, a site's gateway).

A thin edge around the same :class:`~cosim.comm.openadr.OpenAdrEndpoint`
services the simulated network calls: the I/O thread (aiohttp) only reads
each POST to ``/OpenADR2/Simple/2.0b/<service>`` (the 2.0b simple HTTP
transport's paths) and hands its body to the SimPy thread through the inbox
(:mod:`.bridge`), where the VTN's service answers it at the simulated time it
arrived; the answer goes back as ``application/xml``. An unknown service is
404; when the inbox is full the request gets 503 (a VEN retries at its next
poll). Binding defaults to loopback (the bench's ``hil.openadr.host``).

Real VENs use the pull model: they register, then poll (``OadrPoll``); the
VTN holds their events for the next poll (:mod:`cosim.domains.openadr_vtn`).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .bridge import IoThread, SimInbox

if TYPE_CHECKING:
    from cosim.comm.openadr import OpenAdrEndpoint

PATH_PREFIX = "/OpenADR2/Simple/2.0b"
MAX_BODY_BYTES = 1 << 20


@dataclass
class OpenAdrEdgeCounters:
    requests: int = 0
    unknown_service: int = 0
    busy: int = 0


class OpenAdrHttpServer:
    """Serves ``endpoint``'s OpenADR services on ``http://host:port/OpenADR2/Simple/2.0b``; ``port=0`` picks one."""

    def __init__(self, endpoint: "OpenAdrEndpoint", io: IoThread, inbox: SimInbox, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.endpoint, self.io, self.inbox = endpoint, io, inbox
        self.host, self.port = host, port
        self.counters = OpenAdrEdgeCounters()
        self._runner: Any = None

    def start(self) -> int:
        """Bind and listen (raises OSError if the port is taken); returns the port."""
        self.port = self.io.call(self._start())
        return self.port

    async def _start(self) -> int:
        from aiohttp import web   # aiohttp comes with openleadr (the optional ``openadr`` extra)

        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(PATH_PREFIX + "/{service}", self._post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None or self.io.loop.is_closed():
            return
        try:
            self.io.call(runner.cleanup(), 3.0)
        except Exception:  # a socket that will not close must not keep the session alive
            pass

    async def _post(self, request: Any) -> Any:
        from aiohttp import web

        service = request.match_info["service"]
        self.counters.requests += 1
        if service not in self.endpoint.services:
            self.counters.unknown_service += 1
            return web.Response(status=404, text=f"no OpenADR service {service}")
        body = await request.read()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()
        peer = request.remote or "?"
        if not self.inbox.offer(functools.partial(self._handle, service, f"http:{peer}", body, answer, loop)):
            self.counters.busy += 1
            return web.Response(status=503, text="simulation busy")
        return web.Response(body=await answer, content_type="application/xml")

    # -- SimPy thread ------------------------------------------------------------------
    def _handle(self, service: str, peer: str, body: bytes, answer: "asyncio.Future[bytes]",
                loop: asyncio.AbstractEventLoop) -> None:
        response = self.endpoint.services[service](peer, body)
        loop.call_soon_threadsafe(_resolve, answer, response)


def _resolve(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)
