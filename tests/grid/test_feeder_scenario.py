"""An unbalanced feeder in a scenario (``grid.model: unbalanced``), judged by OpenDSS at test time.

``configs/ieee13_feeder.yaml`` runs the IEEE 13 node feeder through a day of
load steps; its substation RTU and the SCADA master polling it over Modbus
must read what OpenDSS computes for the same file at the same load level:
per-phase and positive-sequence voltages within 0.002 pu, the feeder head's
phase currents and total P, Q within their register resolution and 0.2 %.
The adapter's balanced readings (positive sequence, largest phase current,
phase sums) are checked against OpenDSS's own sequence voltages, currents
and powers on every bus and line.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cosim.grid.actions import ScaleLoad, SetSwitch
from cosim.grid.threephase import FeederService, read_dss
from cosim.grid.threephase.adapter import FeederGrid, element_names
from cosim.runner import build_world, run_scenario
from cosim.scenario import load_scenario
from cosim.scenario.durations import parse_duration

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "configs" / "ieee13_feeder.yaml"
FEEDER = ROOT / "configs" / "feeders" / "ieee13_published_taps.dss"
VM_TOL_PU = 0.002


@dataclass(frozen=True)
class OpenDssState:
    """What OpenDSS says about the solved feeder, keyed by lower-case names."""

    phase_pu: dict[tuple[str, int], float]  # (bus, conductor) -> |V| pu
    positive_pu: dict[str, float]  # three-phase bus -> |V1| pu of its line-to-neutral base
    current_a: dict[tuple[str, int], float]  # (line, conductor) at bus1
    power_kw: dict[str, tuple[float, float]]  # line -> (kW, kvar) into bus1, summed over its phases
    phase_power_kw: dict[tuple[str, int], tuple[float, float]]


def opendss_state(load_mult: float, commands: tuple[str, ...] = ()) -> OpenDssState:
    """Compile the scenario's ``.dss`` in OpenDSS at ``LoadMult`` and read back what the devices measure."""
    import os

    import dss

    engine: Any = dss.DSS
    cwd = os.getcwd()
    try:
        engine.AllowForms = False
        engine.Text.Command = "clear"
        engine.Text.Command = f'compile "{FEEDER}"'
        engine.Text.Command = f"Set LoadMult={load_mult!r}"
        for cmd in commands:
            engine.Text.Command = cmd
        engine.Text.Command = "solve"
        c = engine.ActiveCircuit
        assert c.Solution.Converged
        names = [n.lower() for n in c.AllNodeNames]
        phase_pu = {(n.rsplit(".", 1)[0], int(n.rsplit(".", 1)[1])): float(v)
                    for n, v in zip(names, c.AllBusVmagPu)}
        positive = {}
        for bus in c.AllBusNames:
            c.SetActiveBus(bus)
            if sorted(c.ActiveBus.Nodes) == [1, 2, 3]:
                positive[bus.lower()] = float(c.ActiveBus.SeqVoltages[1]) / (c.ActiveBus.kVBase * 1000.0)
        current, power, phase_power = {}, {}, {}
        i = c.Lines.First
        while i:
            name = c.Lines.Name.lower()
            el = c.ActiveCktElement
            nodes = list(el.NodeOrder)[: el.NumConductors]
            mags = list(el.CurrentsMagAng)[0::2][: el.NumConductors]
            powers = list(el.Powers)[: 2 * el.NumConductors]
            for k, node in enumerate(nodes):
                current[(name, node)] = float(mags[k])
                phase_power[(name, node)] = (float(powers[2 * k]), float(powers[2 * k + 1]))
            power[name] = (float(sum(powers[0::2])), float(sum(powers[1::2])))
            i = c.Lines.Next
        return OpenDssState(phase_pu, positive, current, power, phase_power)
    finally:
        os.chdir(cwd)


def load_multiplier_at(scenario: Any, t_s: float) -> float:
    """The product of the scenario's ``scale_load`` factors up to ``t_s``: OpenDSS's LoadMult at that time."""
    mult = 1.0
    for event in scenario.spec.events:
        if event.kind == "scale_load" and parse_duration(event.at) <= t_s:
            mult *= float(event.params["factor"])
    return mult


def test_the_scenario_validates_with_an_unbalanced_feeder() -> None:
    scenario = load_scenario(SCENARIO)
    assert scenario.feeder is not None and scenario.network is None
    assert scenario.feeder_grid is not None and scenario.feeder_grid.model == "unbalanced"
    assert {ld.name for ld in scenario.feeder.loads} >= {"671", "634a", "675c"}


@pytest.mark.parametrize("t_s", [6.5 * 3600, 18.5 * 3600])
def test_rtu_and_scada_read_what_opendss_computes(t_s: float) -> None:
    scenario = load_scenario(SCENARIO)
    world, _ = build_world(scenario, None)
    world.run(t_s)
    mult = load_multiplier_at(scenario, t_s)
    assert 0.5 < mult <= 1.0 + 1e-9
    grid = world.service("grid")
    taps = {r: grid.measurements().tap_ratio(r) for r in ("reg1", "reg2", "reg3")}
    # the taps the regulator devices left at this instant, given to OpenDSS with its own controls off
    ref = opendss_state(mult, tuple(f"Transformer.{r}.Taps=[1.0 {t!r}]" for r, t in taps.items())
                        + ("Set ControlMode=OFF",))
    rtu = world.service("devices")["sub_rtu"]
    scada = world.service("scada/control_centre")
    known = scada.state["sub_rtu"].values
    voltages = {"v650_pu": ref.positive_pu["650"], "v671_pos_seq_pu": ref.positive_pu["671"]}
    for bus in ("632", "671", "675"):
        for k, phase in enumerate("abc", start=1):
            voltages[f"v{bus}_{phase}_pu"] = ref.phase_pu[(bus, k)]
    for point, expected in voltages.items():
        assert rtu.store.get(point) == pytest.approx(expected, abs=VM_TOL_PU), point
        assert known[point] == pytest.approx(expected, abs=VM_TOL_PU), point
    for k, phase in enumerate("abc", start=1):
        expected = ref.current_a[("650632", k)]
        assert known[f"head_i_{phase}_a"] == pytest.approx(expected, rel=2e-3, abs=0.1)
    p_kw, q_kvar = ref.power_kw["650632"]
    assert known["head_p_kw"] == pytest.approx(p_kw, rel=2e-3, abs=1.0)
    assert known["head_q_kvar"] == pytest.approx(q_kvar, rel=2e-3, abs=1.0)


@pytest.fixture(scope="module")
def grid_at_peak() -> FeederGrid:
    return FeederGrid(FeederService(read_dss(FEEDER)))


def test_balanced_readings_are_positive_sequence_max_phase_and_phase_sums(grid_at_peak: FeederGrid) -> None:
    ref = opendss_state(1.0)
    m = grid_at_peak.measurements()
    names = element_names(grid_at_peak.feeder)
    for bus, expected in ref.positive_pu.items():
        assert m.bus_voltage(bus).vm_pu == pytest.approx(expected, abs=1e-4), bus
    for (bus, k), expected in ref.phase_pu.items():
        if k in (1, 2, 3):
            assert f"{bus}.{k}" in names["bus"]
            assert m.bus_voltage(f"{bus}.{k}").vm_pu == pytest.approx(expected, abs=1e-4), (bus, k)
    for line in (ln.name for ln in grid_at_peak.feeder.lines):
        reading = m.branch(line)
        phases = {k: a for (ln, k), a in ref.current_a.items() if ln == line and k in (1, 2, 3)}
        assert reading.i_a == pytest.approx(max(phases.values()), rel=1e-3, abs=0.05), line
        p_kw, q_kvar = ref.power_kw[line]
        assert reading.p_mw * 1e3 == pytest.approx(p_kw, rel=1e-3, abs=0.05), line
        assert reading.q_mvar * 1e3 == pytest.approx(q_kvar, rel=1e-3, abs=0.05), line
        for k, amps in phases.items():
            per_phase = m.branch(f"{line}.{k}")
            assert per_phase.i_a == pytest.approx(amps, rel=1e-3, abs=0.05), (line, k)
            assert per_phase.p_mw * 1e3 == pytest.approx(ref.phase_power_kw[(line, k)][0], rel=1e-3, abs=0.05)


def test_a_single_phase_bus_reads_its_phase_and_a_three_phase_bus_its_positive_sequence(
        grid_at_peak: FeederGrid) -> None:
    m = grid_at_peak.measurements()
    assert m.bus_voltage("652").vm_pu == m.bus_voltage("652.1").vm_pu  # a one-phase lateral: its phase
    a, b, c = (m.bus_voltage(f"671.{k}").vm_pu for k in (1, 2, 3))
    assert min(a, b, c) < m.bus_voltage("671").vm_pu < max(a, b, c)
    assert m.bus_voltage("671").v_kv == pytest.approx(m.bus_voltage("671").vm_pu * 4.16)
    with pytest.raises(KeyError):
        m.bus_voltage("652.2")
    with pytest.raises(KeyError):
        m.generator("anything")


def test_an_open_switch_leaves_its_loads_unserved_as_opendss_does() -> None:
    grid = FeederGrid(FeederService(read_dss(FEEDER)), customers={"692": 40, "675a": 10})
    grid.apply(ScaleLoad(0.8, None))
    grid.apply(SetSwitch("671692", closed=False))
    m = grid.measurements()
    ref = opendss_state(0.8, ("Open Line.671692 1",))
    assert not m.switch_closed("671692")
    assert m.switch("671692").i_a == 0.0
    assert not m.bus_voltage("675").energised and m.frequency_hz("675") == 0.0
    assert all(ref.phase_pu[("675", k)] < 1e-3 for k in (1, 2, 3))
    assert set(m.unserved_loads()) == {"692", "675a", "675b", "675c"}
    assert m.customers_unserved() == 40 + 10 + 1 + 1
    for (bus, k), expected in ref.phase_pu.items():
        if k in (1, 2, 3) and expected > 0.5:
            assert m.bus_voltage(f"{bus}.{k}").vm_pu == pytest.approx(expected, abs=VM_TOL_PU), (bus, k)


def test_the_day_runs_and_the_sampler_records_every_bus_and_line(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(SCENARIO), tmp_path)
    assert result.status == "completed" and result.simulated_time_s == 24 * 3600.0
    with (tmp_path / "timeseries.csv").open() as f:
        rows = list(csv.DictReader(f))
    seen = {(r["entity"], r["quantity"]) for r in rows}
    assert ("bus/671", "vm_b") in seen and ("bus/652", "vm_a") in seen and ("branch/650632", "i_max") in seen and ("load/652", "served") in seen
    assert all(math.isfinite(float(r["value"])) for r in rows)
    converged = [float(r["value"]) for r in rows if r["entity"] == "grid" and r["quantity"] == "converged"]
    assert converged and all(v == 1.0 for v in converged)


def test_a_relay_on_a_feeder_switch_trips_on_its_largest_phase_current(tmp_path: Path) -> None:
    """A 51 element set below the load current of switch 671-692 trips it after the IEEE very inverse time
    at the largest phase current OpenDSS computes there; 692 and 675 are then left unserved."""
    pickup_a, time_dial = 150.0, 0.5
    (tmp_path / "relay.yaml").write_text(f"""name: feeder_relay
run: {{duration: 10min, step: 1min}}
actors:
  - {{id: dx, domain: Distribution, role: DSO, elements: [switch/671692]}}
grid: {{model: unbalanced, dss: '{FEEDER}'}}
comm:
  nodes: [{{id: sub, actor: dx}}]
devices:
  - {{id: relay_692, kind: protective_relay, node: sub, actor: dx, switch: '671692',
     params: {{pickup_51_a: {pickup_a}, curve: ieee_very_inverse, time_dial: {time_dial}}}}}
""")
    out = tmp_path / "out"
    run_scenario(load_scenario(tmp_path / "relay.yaml"), out)
    trips = [e for e in map(json.loads, (out / "events.jsonl").read_text().splitlines())
             if e.get("kind") == "relay_trip"]
    ref = opendss_state(1.0)
    largest = max(ref.current_a[("671692", k)] for k in (1, 2, 3))
    multiple = largest / pickup_a
    expected_s = time_dial * (19.61 / (multiple ** 2 - 1.0) + 0.491)  # IEEE C37.112-2018, Table 1, very inverse
    assert len(trips) == 1
    assert trips[0]["trip_time_s"] == pytest.approx(expected_s, rel=2e-3)
    assert trips[0]["current_a"] == pytest.approx(largest, rel=1e-3)
    with (out / "timeseries.csv").open() as f:
        served = {r["entity"]: float(r["value"]) for r in csv.DictReader(f) if r["quantity"] == "served"}
    assert served["load/692"] == 0.0 and served["load/675a"] == 0.0 and served["load/671"] > 0.0
