"""gridcosim as a mosaik simulator (mosaik-api-v3): a whole scenario, stepped by mosaik's clock.

In a mosaik scenario::

    sim_config = {"Grid": {"python": "cosim.coupling.mosaik_sim:GridSim"}}   # in-process
    sim_config = {"Grid": {"cmd": "python -m cosim.coupling.mosaik_sim %(addr)s"}}  # own process
    grid = world.start("Grid", scenario="configs/cosimulation/mosaik_feeder.yaml", step_size=900)
    net = grid.Grid()          # one entity; its children are buses, branches, loads, DERs, generators, devices
    loads = [e for e in net.children if e.type == "Load"]

Time: one mosaik tick is ``time_resolution`` seconds (mosaik's world
setting); gridcosim's simulated seconds are ticks times that. ``step(t)``
first runs every gridcosim process due before ``t``, then applies the inputs
valid from ``t`` (several sources into one attribute add up, as mosaik's
convention for power), so ``get_data`` returns the grid solved at ``t`` with
them. With ``step_size`` the grid is time-based; without, it is event-based:
a new input triggers a step. Either way the scenario's own processes (a
meter's samples, a SCADA poll, a market interval) run at their own simulated
times inside each step, with the inputs held since the last one; when
mosaik's run ends, the grid runs on to its scenario's end with the last
inputs held.

Inputs enter the grid through :class:`cosim.coupling.ExternalGrid`; device
outputs are the points of each device's register map (engineering values).
"""

from __future__ import annotations

import sys
from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from ..api import Simulation
from ..wiring.devices import SERVICE as DEVICES
from .inputs import ElementKind, ExternalInput
from .quantities import Quantity
from .mosaik_meta import ELEMENT_MODELS, GRID_MODEL, build_meta, device_model_name

_KIND_OF_MODEL = {"Bus": ElementKind.BUS, "Branch": ElementKind.BRANCH, "Load": ElementKind.LOAD,
                  "Der": ElementKind.DER, "Generator": ElementKind.GENERATOR}


class GridSim(mosaik_api_v3.Simulator):
    """One gridcosim scenario per simulator instance (start the simulator again for another)."""

    def __init__(self) -> None:
        super().__init__(build_meta(False, {}))
        self.sim: Simulation | None = None
        self.time_resolution = 1.0
        self.step_size: int | None = None
        self.grid_eid = ""
        self.entities: dict[str, tuple[str, str]] = {}  # eid -> (model, element or device id)

    # -- mosaik API ----------------------------------------------------------------
    def init(self, sid: str, time_resolution: float = 1.0, scenario: str = "", step_size: int | None = None,
             seed: int | None = None, out_dir: str | None = None, **_: Any) -> Meta:
        """``scenario``: the file to run; ``step_size`` in ticks (time-based) or None (event-based);
        ``out_dir``: where the run's files go (a temporary folder by default)."""
        if not scenario:
            raise ValueError("start the Grid simulator with scenario=PATH")
        self.time_resolution = float(time_resolution)
        self.step_size = int(step_size) if step_size is not None else None
        self.sim = Simulation(scenario, seed=seed, out_dir=out_dir)
        self.meta = build_meta(self.step_size is None, self._device_points())
        return self.meta

    def create(self, num: int, model: str, **params: Any) -> list[CreateResult]:
        if model != GRID_MODEL:
            raise ValueError(f"only {GRID_MODEL} entities can be created; the rest are its children")
        if num != 1 or self.grid_eid:
            raise ValueError("a Grid simulator holds one scenario: create one Grid entity per simulator")
        sim = self._sim()
        self.grid_eid = sim.scenario.spec.name
        children: list[Any] = []
        for model_name, kind in _KIND_OF_MODEL.items():
            for name in sim.names(kind):
                eid = f"{model_name}-{name}"
                self.entities[eid] = (model_name, name)
                children.append({"eid": eid, "type": model_name, "rel": []})
        for device_id, model_name in self._device_models().items():
            eid = f"{model_name}-{device_id}"
            self.entities[eid] = (model_name, device_id)
            children.append({"eid": eid, "type": model_name, "rel": []})
        return [{"eid": self.grid_eid, "type": GRID_MODEL, "rel": [], "children": children}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int | None:
        sim = self._sim()
        now_s = min(time * self.time_resolution, sim.until)
        sim.step(now_s)
        for eid, attrs in sorted(inputs.items()):
            model, name = self.entities[eid]
            values = {attr: float(sum(by_source.values())) for attr, by_source in attrs.items()}
            if "p_mw" not in values:
                raise ValueError(f"{eid}: give p_mw (q_mvar alone cannot be set)")
            sim_input = ExternalInput(_KIND_OF_MODEL[model], name, values["p_mw"], values.get("q_mvar"))
            sim._external().apply(sim_input)
        if now_s >= sim.until:
            return None
        if self.step_size is not None:
            return time + self.step_size
        # Event-based: nothing outside needs the grid until a new input arrives; its own processes
        # (meters, polls, protection) run at their own simulated times inside the next step anyway.
        return None

    def get_data(self, outputs: OutputRequest) -> OutputData:
        sim = self._sim()
        m = sim.measurements()
        data: OutputData = {}
        for eid, attrs in outputs.items():
            model, name = self.entities[eid]
            if model in ELEMENT_MODELS:
                data[eid] = {attr: _element_value(m, model, name, attr) for attr in attrs}
            else:
                store = sim.world.service(DEVICES)[name].store
                assert store is not None  # only devices with a register map are entities
                data[eid] = {attr: _plain(store.get(attr)) for attr in attrs}
        return data

    def finalize(self) -> None:
        """mosaik's run ended: hold the last inputs to the scenario's end (mosaik does not say its own end), close."""
        if self.sim is not None:
            self.sim.step()
            self.sim.finish()

    # -- helpers -------------------------------------------------------------------
    def _sim(self) -> Simulation:
        if self.sim is None:
            raise RuntimeError("init() has not run")
        return self.sim

    def _device_models(self) -> dict[str, str]:
        sim = self._sim()
        if not sim.world.has_service(DEVICES):
            return {}
        layer = sim.world.service(DEVICES)
        return {device_id: device_model_name(layer[device_id].config.kind) for device_id in sorted(layer)
                if layer[device_id].store is not None}

    def _device_points(self) -> dict[str, tuple[str, ...]]:
        sim = self._sim()
        points: dict[str, set[str]] = {}
        for device_id, model_name in self._device_models().items():
            store = sim.world.service(DEVICES)[device_id].store
            points.setdefault(model_name, set()).update(p.name for p in store.register_map.points)
        return {model_name: tuple(sorted(names)) for model_name, names in points.items()}


def _element_value(m: Any, model: str, name: str, attr: str) -> Any:
    value = Quantity(_KIND_OF_MODEL[model], name, attr).read(m)
    return bool(value) if attr in ("energised", "closed", "served") else value


def _plain(value: Any) -> Any:
    """JSON-friendly values for mosaik's wire (numpy scalars become Python numbers)."""
    return value.item() if hasattr(value, "item") else value


def main() -> object:
    """``python -m cosim.coupling.mosaik_sim ADDR``: serve the simulator to a mosaik world in another process."""
    return mosaik_api_v3.start_simulation(GridSim(), "gridcosim: the NIST smart grid co-simulation as a mosaik simulator")


if __name__ == "__main__":
    main()
    sys.exit(0)
