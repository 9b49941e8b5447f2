"""A premise acts on the grid only through its devices: PV through its DER inverter, demand through its ESI gateway.

The premise's demand and its panels' power are the physical world
(:mod:`cosim.physical.premises`); what reaches the grid is what the devices
let through. Reference values are the devices' documented rules applied to
what the physical world gave (the inverter clips at its AC rating and at the
curtailment a master writes; the gateway sheds ``reduction_pct`` % of the
demand), never a previous run's output.
"""

import textwrap

import pytest
from devworlds import COMM, GRID, Run

from cosim.runner import build_world
from cosim.scenario import load_scenario
from devices.registermaps.der_inverter import der_inverter_map

MAP = der_inverter_map()


def _scenario(tmp_path, customer_apps, devices=""):
    text = textwrap.dedent("""
        name: premise_test
        run: {duration: 1d, step: 5min, seed: 3}
        actors:
          - {id: utility, domain: Distribution, role: Feeder}
          - id: home
            domain: Customer
            role: Home
            peak_kw: 1000
            applications:
        """) + textwrap.indent(textwrap.dedent(customer_apps), "      ") + textwrap.dedent(GRID) + textwrap.dedent(COMM)
    if devices:
        text += "devices:\n" + textwrap.indent(textwrap.dedent(devices), "  ")
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return load_scenario(path)


def _run(scenario):
    world, _ctx = build_world(scenario, None)
    samples = []
    record = world.record

    def spy(entity, quantity, value, unit):
        samples.append((world.now, entity, quantity, float(value)))
        record(entity, quantity, value, unit)

    world.record = spy
    return Run(world, [], samples)


def _at(run, time_s, read):
    """``read()`` at ``time_s``, after everything due then has acted."""
    out = []

    def process():
        yield run.world.timeout(time_s - run.world.now)
        for _ in range(5):
            yield run.world.timeout(0)
        out.append(read())

    run.world.process(process())
    return out


def _last(run, entity, quantity, time_s):
    return [v for t, e, q, v in run.samples if e == entity and q == quantity and t <= time_s][-1]


PV = "- {kind: rooftop_pv, params: {der: pv1, capacity_kw: 500, cloud_sigma: 0}}\n"


def test_a_scenario_without_an_inverter_gets_one_and_the_pv_reaches_the_grid_through_it(tmp_path):
    scenario = _scenario(tmp_path, PV)
    implied = [d for d in scenario.spec.devices if d["kind"] == "der_inverter"]
    assert implied == [{"id": "pv1_der_inverter", "kind": "der_inverter", "der": "pv1", "actor": "home",
                        "params": {"sample_period_s": 300.0}}]
    assert scenario.model.device_owners["pv1_der_inverter"] == "home"
    run = _run(scenario)
    grid = run.world.service("grid")
    times = (8 * 3600.0 + 60, 12 * 3600.0 + 60)
    outs = [_at(run, t, lambda: grid.measurements().der("pv1").p_mw) for t in times]
    run.world.run(12 * 3600.0 + 120)
    for t, out in zip(times, outs):
        sun_kw = _last(run, "home", "pv_p", t)
        assert sun_kw > 0
        # The inverter passes the array's power on, clipped at WMax = the DER's p_max_mw (0.3 MW).
        assert out[0] == pytest.approx(min(sun_kw / 1000.0, 0.3), rel=1e-9)
    assert _last(run, "home", "pv_p", times[1]) > 300.0  # noon: the clip was exercised


def test_a_masters_curtailment_caps_the_rooftop_pv(tmp_path):
    scenario = _scenario(tmp_path, PV, "- {id: inv1, kind: der_inverter, node: field, der: pv1}\n")
    assert [d["id"] for d in scenario.spec.devices] == ["inv1"]  # the scenario's own inverter, none added
    run = _run(scenario)
    master = run.world.service("comm").modbus_client("scada", "field")

    def curtail():
        yield run.world.timeout(11 * 3600.0)
        yield from master.write_registers(1, MAP.point("controls.WMaxLimPct").address, [500])  # 50.0 % (scale 0.1)
        yield from master.write_register(1, MAP.point("controls.WMaxLim_Ena").address, 1)

    run.world.process(curtail())
    grid = run.world.service("grid")
    before = _at(run, 10 * 3600.0 + 60, lambda: grid.measurements().der("pv1").p_mw)
    after = _at(run, 12 * 3600.0 + 60, lambda: grid.measurements().der("pv1").p_mw)
    run.world.run(12 * 3600.0 + 120)
    assert before[0] == pytest.approx(min(_last(run, "home", "pv_p", 10 * 3600.0 + 60) / 1000.0, 0.3), rel=1e-9)
    assert _last(run, "home", "pv_p", 12 * 3600.0 + 60) > 150.0
    assert after[0] == pytest.approx(0.15, rel=1e-9)  # 50 % of WMax 0.3 MW


DEMAND = "- {kind: load_profile, params: {load: load2, noise_pct: 0}}\n"
ESI = "- {id: esi1, kind: esi_gateway, node: home, load: load2, params: {mqtt: {broker: scada}}}\n"


def test_without_a_gateway_the_premise_draws_its_demand(tmp_path):
    run = _run(_scenario(tmp_path, DEMAND))
    grid = run.world.service("grid")
    out = _at(run, 18 * 3600.0 + 60, lambda: grid.measurements().load("load2").p_mw)
    run.world.run(18 * 3600.0 + 120)
    assert out[0] == pytest.approx(_last(run, "home", "demand_p", 18 * 3600.0 + 60) / 1000.0, rel=1e-9)


def test_the_esi_gateway_applies_the_demand_and_sheds_it_in_an_event(tmp_path):
    run = _run(_scenario(tmp_path, DEMAND, ESI))
    publish = run.publisher("market")
    publish(17 * 3600.0, "esi_gateway/esi1/dr", {"event_id": 1, "start_s": 18 * 3600, "duration_s": 3600,
                                                 "reduction_pct": 20})
    grid = run.world.service("grid")
    times = (17 * 3600.0 + 1860, 18 * 3600.0 + 1860, 19 * 3600.0 + 1860)
    outs = [_at(run, t, lambda: grid.measurements().load("load2").p_mw) for t in times]
    run.world.run(19 * 3600.0 + 1900)
    demand = [_last(run, "home", "demand_p", t) / 1000.0 for t in times]
    assert outs[0][0] == pytest.approx(demand[0], rel=1e-9)          # before the event: all of it
    assert outs[1][0] == pytest.approx(0.8 * demand[1], rel=1e-9)    # during: 20 % shed at the gateway
    assert outs[2][0] == pytest.approx(demand[2], rel=1e-9)          # after: all of it again
