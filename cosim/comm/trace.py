"""The message trace (``messages.csv``) and per-link statistics (``link_stats.csv``).

One trace row per message, written when its fate is known: delivered (at
arrival) or dropped (where and why). Modbus payloads are bytes and appear as
hex; other protocols put a short description in ``info``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:
    from cosim.kernel.recorder import Recorder

    from .network import Link, Message

TRACE_COLUMNS = ("msg_id", "protocol", "kind", "src", "dst", "size_bytes", "sent_s", "done_s",
                 "status", "reason", "hops", "path", "info")
LINK_STATS_COLUMNS = ("link", "sent", "delivered", "lost", "dropped_down", "outages", "bytes",
                      "latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_max_s")


class LinkStats:
    """Running counters of one link (both directions); latencies are per hop, queueing included."""

    __slots__ = ("name", "sent", "delivered", "lost", "dropped_down", "outages", "bytes", "latencies")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0
        self.delivered = 0
        self.lost = 0
        self.dropped_down = 0
        self.outages = 0
        self.bytes = 0
        self.latencies = array("d")


@dataclass(frozen=True)
class LinkSummary:
    """Final figures of one link. Latency percentiles are NaN when nothing crossed it."""

    link: str
    sent: int
    delivered: int
    lost: int
    dropped_down: int
    outages: int
    bytes: int
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    latency_max_s: float

    @property
    def loss_ratio(self) -> float:
        return self.lost / self.sent if self.sent else float("nan")

    def row(self) -> tuple[object, ...]:
        return (self.link, self.sent, self.delivered, self.lost, self.dropped_down, self.outages, self.bytes,
                repr(self.latency_p50_s), repr(self.latency_p95_s), repr(self.latency_p99_s),
                repr(self.latency_max_s))


@dataclass(frozen=True)
class NetworkStatistics:
    """Per-link summaries and message outcome counts of a run."""

    links: dict[str, LinkSummary]
    delivered: int
    dropped: dict[str, int]  # reason -> count
    by_protocol: dict[str, int]
    accounted: dict[str, int] = field(default_factory=dict)  # "protocol/kind" -> counted, not simulated

    @staticmethod
    def collect(links: Iterable[Link], trace: MessageTrace) -> "NetworkStatistics":
        summaries = {}
        for link in links:
            s = link.stats
            if len(s.latencies):
                lat = np.frombuffer(s.latencies, dtype=np.float64)
                p50, p95, p99 = (float(v) for v in np.percentile(lat, [50, 95, 99]))
                top = float(lat.max())
            else:
                p50 = p95 = p99 = top = float("nan")
            summaries[link.name] = LinkSummary(link.name, s.sent, s.delivered, s.lost, s.dropped_down,
                                               s.outages, s.bytes, p50, p95, p99, top)
        return NetworkStatistics(summaries, trace.delivered, dict(trace.dropped), dict(trace.by_protocol),
                                 dict(trace.accounted))

    def write(self, recorder: Recorder) -> None:
        table = recorder.table("link_stats", LINK_STATS_COLUMNS)
        for summary in self.links.values():
            table.write(summary.row())


class MessageTrace:
    """Streams one row per finished message to the recorder table ``messages``."""

    def __init__(self, recorder: Recorder, enabled: bool = True) -> None:
        self.enabled = enabled
        self._table = recorder.table("messages", TRACE_COLUMNS) if enabled else None
        self.delivered = 0
        self.dropped: dict[str, int] = {}
        self.by_protocol: dict[str, int] = {}
        self.accounted: dict[str, int] = {}  # "protocol/kind" -> messages counted, not simulated (no row)

    def account(self, protocol: str, kind: str) -> None:
        key = f"{protocol}/{kind}"
        self.accounted[key] = self.accounted.get(key, 0) + 1

    def write(self, msg: Message) -> None:
        if msg.status == "dropped":
            self.dropped[msg.reason] = self.dropped.get(msg.reason, 0) + 1
        else:
            self.delivered += 1
        self.by_protocol[msg.protocol] = self.by_protocol.get(msg.protocol, 0) + 1
        if self._table is None:
            return
        payload = msg.payload
        info = payload.hex() if type(payload) is bytes else msg.info
        path = msg.path
        self._table.write((msg.msg_id, msg.protocol, msg.kind, msg.src, msg.dst, msg.size_bytes,
                           repr(float(msg.sent_s)), repr(float(msg.done_s)), msg.status, msg.reason, len(path) - 1,
                           ">".join(path), info))
