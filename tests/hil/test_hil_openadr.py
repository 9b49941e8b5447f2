"""A CSP's OpenADR 2.0b VTN over real HTTP, against openleadr's own VEN (``OpenADRClient``).

The scenario runs paced to the wall clock with the CSP's VTN served on a free
loopback port (bench ``hil.openadr``). openleadr's VEN, in its own asyncio
loop, registers (query, create party registration), registers a report
naming its site as a resource, and polls. A Load Management call for that
resource, sent to the CSP over the simulated MQTT broker, must reach the VEN
at its next poll as an event with the call's window, a LOAD_DISPATCH signal
and status far; the VEN's optIn must come back to the VTN; and its later
polls must bring the status changes (near, active) as the paced clock passes
them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cosim.comm import QoS
from cosim.hil.config import OpenAdrServeConfig
from cosim.markets.messages import LmDispatch
from hiltools import ServedWorld, settings, wait_until

openleadr = pytest.importorskip("openleadr")   # the optional ``openadr`` extra (in the test extra)

SCENARIO = (Path(__file__).parent / "openadr_scenario.yaml").read_text()


class Ven:
    """openleadr's VEN in a thread of its own; records every event it is given (id, status, modification, signal)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[str, str, int, float]] = []
        self.windows: list[tuple[Any, Any]] = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.client: Any = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _record(self, event: dict[str, Any]) -> None:
        descriptor = event["event_descriptor"]
        payload = float(event["event_signals"][0]["intervals"][0]["signal_payload"])
        with self.lock:
            self.seen.append((descriptor["event_id"], descriptor["event_status"], descriptor["modification_number"],
                              payload))
            self.windows.append((event["active_period"]["dtstart"], event["active_period"]["duration"]))

    async def on_event(self, event: dict[str, Any]) -> str:
        return "optIn"

    async def on_update_event(self, event: dict[str, Any]) -> str:
        return "optIn"

    def after_parse(self, message_type: str, payload: dict[str, Any]) -> None:
        """Every document the VEN parsed (its event handlers run only for new versions, not status changes)."""
        if message_type == "oadrDistributeEvent":
            for event in payload["events"]:
                self._record(event)

    async def _start(self) -> None:
        from openleadr import OpenADRClient

        self.client = OpenADRClient(ven_name="site1", vtn_url=self.url, allow_jitter=False)
        self.client.add_handler("on_event", self.on_event)
        self.client.add_handler("on_update_event", self.on_update_event)
        self.client.add_hook("after_parse_xml", self.after_parse)
        self.client.add_report(callback=lambda: 12.5, resource_id="CSP_A.SITE1", measurement="power",
                               report_specifier_id="SITE1_POWER", sampling_rate=timedelta(seconds=10))
        await self.client.run()

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(15)

    def stop(self) -> None:
        if self.client is not None:
            asyncio.run_coroutine_threadsafe(self.client.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def statuses(self, event_id: str) -> list[str]:
        with self.lock:
            return [s for e, s, _, _ in self.seen if e == event_id]


def test_openleadr_ven_registers_polls_and_follows_an_lm_call(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    hil = settings(openadr=OpenAdrServeConfig(vtn="csp_a", port=0))
    served = ServedWorld(tmp_path / "out", hil, duration_s=60.0, scenario_path=path).start()
    ven = None
    try:
        port = next(e.port for e in served.session.endpoints if e.kind == "openadr_vtn")
        ven = Ven(f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b")
        ven.start()
        assert ven.client.registration_id and ven.client.ven_id == "site1"
        world = served.world
        comm = world.service("comm")
        ops = comm.mqtt_client("pjm_ops", "test-ops", "broker")
        call: dict[str, float] = {}

        def dispatch() -> None:   # in the SimPy thread: the Load Management call, 4 s ahead, for 3 s
            call["start_s"] = world.now + 4.0

            def send() -> Any:
                yield from ops.connect()
                yield from ops.publish("pjm/lm/dispatch/csp_a", LmDispatch(
                    "LM1", "ZB", (), "PRE_EMERGENCY", 30, 0.1, ("CSP_A.SITE1",), call["start_s"],
                    call["start_s"] + 3.0).encode(), QoS.AT_LEAST_ONCE)
            world.process(send())

        assert served.session.inbox.offer(dispatch)
        event_id = "LM1:CSP_A.SITE1"
        assert wait_until(lambda: "active" in ven.statuses(event_id), 15.0), ven.seen
        statuses = ven.statuses(event_id)
        assert statuses[0] == "far" and statuses.index("near") < statuses.index("active")
        assert wait_until(lambda: "completed" in ven.statuses(event_id), 10.0), ven.seen
        with ven.lock:
            start, duration = ven.windows[0]
            payload = ven.seen[0][3]
        assert duration == timedelta(seconds=3) and payload == -100.0
        # the VEN's answer reached the VTN (logged in the SimPy thread)
        counts = served.world.recorder.event_counts
        assert wait_until(lambda: counts.get("openadr_created_event", 0) >= 1, 5.0)
    finally:
        if ven is not None:
            ven.stop()
        served.stop()
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    registered = [e for e in events if e["kind"] == "openadr_registered"]
    assert [(e["ven"], e["resources"]) for e in registered] == [("site1", 1)]
    created = [e for e in events if e["kind"] == "openadr_created_event" and e["event_id"] == event_id]
    assert created and created[0]["opt_in"] and created[0]["modification"] == 0
    assert not [e for e in events if e["kind"] in ("openadr_bad_request", "openadr_no_ven")]
