"""Helpers for device tests: a world built from a scenario with its events and records captured.

``Run`` holds the world, every logged event and every recorded sample (both
captured before the grid service binds the recorder), and runs scripted
masters: a Modbus master or MQTT subscriber on a comm node, as any
application would, so devices are exercised through the simulated transport.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any, Callable, Generator

from cosim.comm import QoS
from cosim.events import event_schedule
from cosim.grid import ApplyFault
from cosim.kernel import World
from cosim.scenario import Scenario, load_scenario
from cosim.scenario.schema import EventSection
from cosim.wiring.comm import attach_comm
from cosim.wiring.devices import attach_devices
from cosim.wiring.grid import attach_grid

GRID = """
grid:
  base_mva: 100
  frequency_hz: 50
  buses:
    - {name: src, base_kv: 33}
    - {name: mv, base_kv: 11}
    - {name: b1, base_kv: 11}
    - {name: b2, base_kv: 11}
  generators:
    - {name: source, bus: src, slack: true, xdss_pu: 0.2, mbase_mva: 200}
  transformers:
    - {name: tx, hv_bus: src, lv_bus: mv, sn_mva: 20, vk_percent: 10, vkr_percent: 0.8}
  lines:
    - {name: l1, from_bus: mv, to_bus: b1, r_ohm: 0.6, x_ohm: 0.7}
    - {name: l2, from_bus: b1, to_bus: b2, r_ohm: 0.6, x_ohm: 0.7}
  switches:
    - {name: cb, branch: l1, bus: mv, kind: breaker}
    - {name: sw2, branch: l2, bus: b1, kind: switch}
  loads:
    - {name: load1, bus: b1, p_mw: 1.5, q_mvar: 0.5, customers: 300}
    - {name: load2, bus: b2, p_mw: 1.0, q_mvar: 0.3, customers: 200}
  shunts:
    - {name: cap1, bus: b2, b_mvar: 1.2, step: 0, max_step: 1}
  ders:
    - {name: pv1, bus: b2, kind: pv, p_mw: 0.25, p_max_mw: 0.3}
"""

COMM = """
comm:
  nodes: [{id: scada}, {id: field}, {id: home}, {id: ops}, {id: market}]
  links:
    - {a: scada, b: field, profile: lan}
    - {a: scada, b: home, profile: lan}
    - {a: scada, b: ops, profile: lan}
    - {a: scada, b: market, profile: lan}
  mqtt:
    brokers: [{node: scada}]
"""


# One synchronous area with a frequency response: tripping unit2 (40 MW) makes a frequency transient.
AREA_GRID = """
grid:
  base_mva: 100
  frequency_hz: 50
  frequency_response: {system_base_mva: 400, inertia_h_s: 4, droop_pct: 5, governor_time_constant_s: 0.5, load_damping_pu: 1}
  buses:
    - {name: src, base_kv: 110}
    - {name: b1, base_kv: 110}
    - {name: b2, base_kv: 110}
  generators:
    - {name: bulk, bus: src, slack: true, p_mw: 200}
    - {name: unit2, bus: b2, p_mw: 40}
  lines:
    - {name: l1, from_bus: src, to_bus: b1, r_ohm: 1.0, x_ohm: 6.0}
    - {name: l2, from_bus: b1, to_bus: b2, r_ohm: 1.0, x_ohm: 6.0}
  loads:
    - {name: city, bus: b1, p_mw: 200, q_mvar: 40}
    - {name: town, bus: b2, p_mw: 40, q_mvar: 8}
"""


def scenario_file(tmp_path: Path, devices: str, *, events: str = "", duration: str = "1h",
                  grid: str = GRID, comm: str = COMM, extra: str = "") -> Path:
    """Write a small scenario (two-section feeder, shunt, PV, SCADA LAN) with ``devices`` (YAML list items)."""
    text = textwrap.dedent(f"""
        name: device_test
        run: {{duration: {duration}, step: 5min, seed: 3}}
        actors:
          - {{id: utility, domain: Distribution, role: Feeder}}
          - {{id: scada_centre, domain: Operations, role: SCADA}}
        """) + textwrap.dedent(grid) + textwrap.dedent(comm) + "devices:\n" + textwrap.indent(textwrap.dedent(devices), "  ")
    if events:
        text += "events:\n" + textwrap.indent(textwrap.dedent(events), "  ")
    text += extra
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


@dataclasses.dataclass
class Run:
    world: World
    events: list[dict[str, Any]]
    samples: list[tuple[float, str, str, float]]

    @property
    def devices(self) -> Any:
        return self.world.service("devices")

    @property
    def grid(self) -> Any:
        return self.world.service("grid")

    @property
    def comm(self) -> Any:
        return self.world.service("comm")

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    def series(self, entity: str, quantity: str) -> list[tuple[float, float]]:
        return [(t, v) for t, e, q, v in self.samples if e == entity and q == quantity]

    def at(self, time_s: float, script: Callable[[], Generator[Any, Any, Any]]) -> list[Any]:
        """Run ``script`` (a generator function) from simulated ``time_s``; its return value lands in the list."""
        out: list[Any] = []

        def process() -> Generator[Any, Any, None]:
            yield self.world.timeout(max(0.0, time_s - self.world.now))
            out.append((yield from script()))

        self.world.process(process())
        return out

    def subscribe(self, node: str, topic_filter: str, broker: str = "scada") -> list[tuple[float, str, dict[str, Any]]]:
        """Messages (time, topic, JSON payload) an MQTT subscriber at ``node`` receives."""
        received: list[tuple[float, str, dict[str, Any]]] = []
        client = self.comm.mqtt_client(node, f"test-{node}", broker)

        def run() -> Generator[Any, Any, None]:
            yield from client.connect()
            yield from client.subscribe(topic_filter, QoS.AT_LEAST_ONCE,
                                        lambda m: received.append((self.world.now, m.topic, json.loads(m.payload))))

        self.world.process(run())
        return received

    def publisher(self, node: str, broker: str = "scada") -> Callable[[float, str, Any], None]:
        """``publish(time_s, topic, payload)`` from an MQTT client at ``node`` (payload: JSON-able or bytes)."""
        client = self.comm.mqtt_client(node, f"pub-{node}", broker)
        connected = self.world.process(client.connect())

        def publish(time_s: float, topic: str, payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

            def send() -> Generator[Any, Any, None]:
                yield connected
                yield self.world.timeout(max(0.0, time_s - self.world.now))
                yield from client.publish(topic, data, QoS.AT_LEAST_ONCE)

            self.world.process(send())

        return publish

    def run(self, until_s: float) -> "Run":
        self.world.run(until_s)
        return self


def start(scenario: Scenario | Path | str, events: list[EventSection] | None = None) -> Run:
    """A world with grid, comm, devices and (the scenario's or the given) events, capturing records and logs."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if events is not None:
        scenario = dataclasses.replace(scenario, spec=scenario.spec.model_copy(update={"events": events}))
    world = World(scenario.spec.run.seed, None)
    logged: list[dict[str, Any]] = []
    samples: list[tuple[float, str, str, float]] = []
    record = world.record

    def spy_record(entity: str, quantity: str, value: float, unit: str) -> None:
        samples.append((world.now, entity, quantity, float(value)))
        record(entity, quantity, value, unit)

    log = world.recorder.log

    def spy_log(kind: str, **fields: Any) -> None:
        logged.append({"time_s": world.now, "kind": kind, **fields})
        log(kind, **fields)

    world.record = spy_record  # type: ignore[method-assign]
    world.recorder.log = spy_log  # type: ignore[method-assign]
    attach_grid(world, scenario)
    attach_comm(world, scenario)
    attach_devices(world, scenario)
    if scenario.spec.events:
        world.process(event_schedule(world, scenario.spec.events))
    return Run(world, logged, samples)


def event(at: float, kind: str, target: str | None = None, **params: Any) -> EventSection:
    return EventSection(at=at, kind=kind, target=target, params=params)


def switch_fault_current_a(run: Run, switch: str, branch: str) -> float:
    """The fault current through ``switch`` for a mid-line fault on ``branch`` (a what-if study, changes nothing)."""
    grid = run.grid
    study = grid.fault_study(ApplyFault(branch=branch, fraction=0.5))
    net = grid.network
    s = net.switches.index(switch)
    k = int(net.switches.branch[s])
    at_from = net.switches.bus[s] == net.branches.from_bus[k]
    return float((study.i_from_ka if at_from else study.i_to_ka)[k]) * 1000.0
