"""Work orders between the control centre and field crews: MQTT topics and JSON payloads.

One job: the message format both ends agree on. The DMS (Operations) sends a
:class:`WorkOrder` on ``crews/<team>/orders``; the crews application
(Distribution, :mod:`cosim.domains.distribution`) travels, does the work on
site (:mod:`cosim.physical.fieldwork`) and answers with a :class:`WorkReport` on ``crews/<team>/reports``.
Tasks: ``open`` / ``close`` a manual switch, ``patrol`` a zone (named by its
buses) to find where the fault is, ``repair`` the fault in a zone. A patrol's
report names the buses of the damage found.

Both ends hold their MQTT client in a :class:`CrewChannel`, which keeps the
session alive: crews work over radio/LTE, where a lost keep-alive makes the
broker drop the client; the channel reconnects, subscribes again and retries
a publish until it is acknowledged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Callable, Generator

from cosim.comm import QoS
from cosim.comm.errors import CommError
from cosim.kernel import World

TASKS = ("open", "close", "patrol", "repair")


def orders_topic(team: str) -> str:
    return f"crews/{team}/orders"


def reports_topic(team: str) -> str:
    return f"crews/{team}/reports"


@dataclass(frozen=True)
class WorkOrder:
    order_id: int
    task: str
    switch: str = ""
    buses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown crew task {self.task!r}; known: {', '.join(TASKS)}")

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, payload: bytes) -> "WorkOrder":
        """Raises ValueError (json or field errors) for a payload that is not a work order."""
        data = json.loads(payload)
        return cls(int(data["order_id"]), str(data["task"]), str(data.get("switch", "")), tuple(data.get("buses", ())))


@dataclass(frozen=True)
class WorkReport:
    order_id: int
    task: str
    done: bool
    travel_s: float
    work_s: float
    note: str = ""
    buses: tuple[str, ...] = ()  # a patrol: where the damage is

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, payload: bytes) -> "WorkReport":
        data = json.loads(payload)
        return cls(int(data["order_id"]), str(data["task"]), bool(data["done"]), float(data["travel_s"]),
                   float(data["work_s"]), str(data.get("note", "")), tuple(str(b) for b in data.get("buses", ())))


class CrewChannel:
    """An MQTT client that stays connected: subscriptions restored after the broker drops it, publishes retried.

    ``watch_s`` is how often (simulated s) the session is checked; a QoS 1
    publish that fails (the broker gave up on the client) reconnects and is
    sent again after ``retry_s``. Orders and reports carry ids, so a copy
    sent twice is recognised by the receiver.
    """

    def __init__(self, world: World, client: Any, *, watch_s: float = 60.0, retry_s: float = 30.0) -> None:
        self.world = world
        self.client = client
        self.watch_s = watch_s
        self.retry_s = retry_s
        self.reconnects = 0
        self._subscriptions: list[tuple[str, Callable[[Any], None]]] = []

    def start(self, subscriptions: list[tuple[str, Callable[[Any], None]]]) -> Generator[Any, Any, None]:
        self._subscriptions = list(subscriptions)
        yield from self._session()
        self.world.process(self._watch())

    def _session(self) -> Generator[Any, Any, None]:
        yield from self.client.connect()
        for topic, handler in self._subscriptions:
            yield from self.client.subscribe(topic, QoS.AT_LEAST_ONCE, handler)

    def _reconnect(self) -> Generator[Any, Any, None]:
        while not self.client.connected:
            try:
                self.reconnects += 1
                self.world.log("crew_channel_reconnect", client=self.client.client_id)
                yield from self._session()
            except CommError:
                yield self.world.timeout(self.retry_s)

    def _watch(self) -> Generator[Any, Any, None]:
        while True:
            yield self.world.timeout(self.watch_s)
            if not self.client.connected:
                yield from self._reconnect()

    def publish(self, topic: str, payload: bytes) -> Generator[Any, Any, None]:
        """QoS 1 publish, reconnecting and retrying until the broker acknowledges it."""
        while True:
            try:
                if not self.client.connected:
                    yield from self._reconnect()
                yield from self.client.publish(topic, payload, QoS.AT_LEAST_ONCE)
                return
            except CommError:
                yield self.world.timeout(self.retry_s)
