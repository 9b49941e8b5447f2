"""Work orders between the control centre and field crews: MQTT topics and JSON payloads.

One job: the message format both ends agree on. The DMS (Operations) sends a
:class:`WorkOrder` on ``crews/<team>/orders``; the crews application
(Distribution, :mod:`cosim.domains.distribution`) travels, does the work on
the grid and answers with a :class:`WorkReport` on ``crews/<team>/reports``.
Tasks: ``open`` / ``close`` a manual switch, ``repair`` the fault in a zone
(named by its buses).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

TASKS = ("open", "close", "repair")


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

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, payload: bytes) -> "WorkReport":
        data = json.loads(payload)
        return cls(int(data["order_id"]), str(data["task"]), bool(data["done"]), float(data["travel_s"]),
                   float(data["work_s"]), str(data.get("note", "")))
