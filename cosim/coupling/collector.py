"""A minimal mosaik collector: records every value it is sent, for examples and tests.

mosaik ships no collector of its own; this one keeps ``{source entity:
{attribute: {time: value}}}`` and, given ``out=PATH`` when started, writes
it there as JSON when the run ends (so it works in another process too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta

META: Meta = {
    "api_version": "3.0",
    "type": "event-based",
    "models": {"Collector": {"public": True, "any_inputs": True, "params": [], "attrs": []}},
}


class Collector(mosaik_api_v3.Simulator):
    """Collects inputs by source entity and attribute; read them from :attr:`data` after ``world.run``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.eid: str | None = None
        self.data: dict[str, dict[str, dict[int, Any]]] = {}
        self.out: Path | None = None

    def init(self, sid: str, time_resolution: float = 1.0, out: str | None = None, **_: Any) -> Meta:
        self.out = Path(out) if out else None
        return self.meta

    def create(self, num: int, model: str, **params: Any) -> list[CreateResult]:
        if num != 1 or self.eid is not None:
            raise ValueError("create one Collector")
        self.eid = "collector"
        return [{"eid": self.eid, "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> None:
        for attr, by_source in inputs.get(self.eid or "", {}).items():
            for source, value in by_source.items():
                self.data.setdefault(source, {}).setdefault(attr, {})[time] = value
        return None

    def finalize(self) -> None:
        if self.out is not None:
            self.out.write_text(json.dumps(self.data, sort_keys=True))
