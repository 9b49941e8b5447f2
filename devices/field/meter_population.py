"""Thousands of smart meters as numpy arrays behind one process (DESIGN.md: populations are arrays).

The meters are the members of a comm ``node_group`` (``params.node_group`` is
its ``id_format``); each member's one link leads to its collector. Meter ``i``
takes a fixed share of grid load ``loads[i * len(loads) // count]`` (shares
drawn once, lognormal, normalised so a load's meters add up to it). Each
interval the population integrates every load's energy exactly (power holds
between grid changes), and every meter whose load is served sends its
reading to its collector as one traced ``ami`` message on the mesh (meters
of a dead load send nothing: no supply, no radio). The registers are the one
meter model of :mod:`devices.metering`, as in an individual smart meter. ``collect_s`` after the
interval end each collector publishes its batch over MQTT on
``<topic>/<collector>`` (default topic ``meter_population/<id>``)::

    {"interval_end_s": 900.0, "readings": {"meter00001": 0.2473, ...}}   # kWh per meter

No register store: a population is not individually addressable over Modbus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

import numpy as np

from devices.config import MeterPopulationConfig
from devices.metering import EnergyRegister

if TYPE_CHECKING:
    from devices.field.base import DeviceLayer

AMI_PROTOCOL = "ami"


class MeterPopulation:
    kind = "meter_population"

    def __init__(self, layer: "DeviceLayer", config: MeterPopulationConfig) -> None:
        self.layer = layer
        self.world = layer.world
        self.config = config
        self.device_id = config.id
        self.entity = f"device/{config.id}"
        self.store = None
        params = config.params
        network = layer.comm
        if network is None:
            raise ValueError(f"meter population {config.id!r} needs a comm section")
        members: list[str] = []
        while (node := params.node_group.format(index=len(members))) in network.nodes:
            members.append(node)
        self.members = members
        self.count = len(members)
        self.collectors = [next(iter(network.nodes[member].links)) for member in members]
        grid_loads = layer.grid.network.loads if layer.grid is not None else None
        self.loads = list(params.loads)
        self.load_index = np.array([grid_loads.index(name) for name in self.loads]) if grid_loads is not None else None
        self.load_of = (np.arange(self.count) * len(self.loads)) // max(self.count, 1)
        rng = self.world.rng(f"devices/{config.id}/shares")
        shares = rng.lognormal(0.0, params.share_sigma, self.count) if params.share_sigma > 0 else np.ones(self.count)
        totals = np.bincount(self.load_of, weights=shares, minlength=len(self.loads))
        self.share = shares / totals[self.load_of]
        self.noise_rng = self.world.rng(f"devices/{config.id}/noise")
        self.topic = (params.mqtt.topic or f"{self.kind}/{config.id}")
        self._batches: dict[tuple[str, float], dict[str, float]] = {}  # (collector, interval end) -> readings
        self._publish_due: list[tuple[float, float]] = []  # (time, interval end)
        self.reports_sent = 0
        self.batches_published = 0

    def start(self) -> None:
        network = self.layer.comm
        assert network is not None  # checked in __init__
        params = self.config.params
        self.mqtt = {c: self.layer.mqtt(c, params.mqtt.broker) for c in dict.fromkeys(self.collectors)}
        for collector in self.mqtt:
            network.attach(collector, AMI_PROTOCOL, self._on_report)
        self.world.process(self.run())

    def _on_report(self, message: Any) -> None:
        meter, interval_end, kwh = message.payload
        self._batches.setdefault((message.dst, interval_end), {})[meter] = kwh

    def run(self) -> Generator[Any, Any, None]:
        env = self.world.env
        params = self.config.params
        grid = self.layer.grid
        # The one meter model (devices.metering), one register per load: MW -> MWh, cut into intervals.
        register = EnergyRegister(len(self.loads), params.interval_s)
        served = np.ones(len(self.loads), dtype=bool)
        while True:
            now = env.now
            register.hold(now)   # the power held since the last wake, closing the intervals it passed
            closed = register.take_closed()
            if grid is not None and self.load_index is not None:
                result = grid.solve_if_changed()
                register.hold(now, np.asarray(result.load_p_mw)[self.load_index])
                served = np.asarray(result.load_served)[self.load_index]
            for interval in closed:
                self._report(now, interval.end_s, interval.import_energy * 1000.0, served)
                self._publish_due.append((now + params.collect_s, interval.end_s))
            while self._publish_due and self._publish_due[0][0] <= now:
                _, interval_end = self._publish_due.pop(0)
                self._publish(interval_end)
            due = min([register.interval_end_s()] + [t for t, _ in self._publish_due])
            yield env.any_of([self.layer.grid_changed, env.timeout(max(0.0, due - now))])

    def _report(self, now: float, interval_end_s: float, load_kwh: np.ndarray, served: np.ndarray) -> None:
        params = self.config.params
        kwh = self.share * load_kwh[self.load_of]
        kwh = kwh * (1.0 + params.noise_pct / 100.0 * self.noise_rng.standard_normal(self.count))
        kwh = np.round(np.maximum(kwh, 0.0), 4)
        powered = served[self.load_of]
        assert self.layer.comm is not None
        send = self.layer.comm.send
        for index in np.flatnonzero(powered):
            member = self.members[index]
            send(member, self.collectors[index], AMI_PROTOCOL, (member, interval_end_s, float(kwh[index])), params.report_bytes,
                 kind="interval", info=f"{member} {kwh[index]:.4f} kWh")
        self.reports_sent += int(powered.sum())
        self.world.record(self.entity, "meters_reporting", float(powered.sum()), "count")
        self.world.record(self.entity, "interval_energy", float(kwh[powered].sum()), "kWh")

    def _publish(self, interval_end: float) -> None:
        # A reading that arrives after its batch went out travels with the next one, still labelled.
        batches = {key: readings for key, readings in self._batches.items() if key[1] <= interval_end}
        for key in batches:
            del self._batches[key]
        params = self.config.params
        for (collector, end_s), readings in batches.items():
            self.mqtt[collector].publish(f"{self.topic}/{collector}",
                                         {"interval_end_s": end_s, "readings": readings},
                                         qos=params.mqtt.qos)
            self.batches_published += 1
        self.world.log("ami_batches", device=self.device_id, interval_end_s=interval_end,
                       collectors=len(batches), readings=sum(len(b) for b in batches.values()))
