"""Networks from pandapower: its JSON files and objects, and MATPOWER .mat files written by its to_mpc.

Each is checked by solving the same network both ways: pandapower's own
Newton-Raphson (a third-party solver at test time) on its network, and
gridcosim's on the imported one.
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from pandapower.converter.matpower import to_mpc

from cosim.grid import solve_ac
from cosim.grid.matfile import MatFileError, read_mat
from cosim.grid.matpower import case_to_network
from cosim.grid.pandapower_import import PandapowerImportError, mpc_from_pandapower


def networks():
    yield "cigre_mv", pn.create_cigre_network_mv()
    yield "cigre_mv_der", pn.create_cigre_network_mv(with_der="pv_wind")
    # A radial feeder under a Dyn5 transformer on tap -2 (HV side), with an open line switch at one end.
    net = pp.create_empty_network(f_hz=50.0, sn_mva=10.0)
    hv, mv = pp.create_bus(net, 110.0, name="hv"), pp.create_bus(net, 20.0, name="mv")
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    pp.create_transformer_from_parameters(net, hv, mv, 40.0, 110.0, 20.0, 0.3, 12.0, 20.0, 0.05, shift_degree=150.0,
                                          tap_side="hv", tap_neutral=0, tap_pos=-2, tap_step_percent=1.5, tap_min=-9, tap_max=9,
                                          tap_changer_type="Ratio")
    previous = mv
    for k in range(6):
        bus = pp.create_bus(net, 20.0, name=f"n{k}")
        line = pp.create_line_from_parameters(net, previous, bus, 1.2, 0.16, 0.35, 260.0, 0.4)
        pp.create_load(net, bus, 0.8, 0.25)
        previous = bus
    spur = pp.create_bus(net, 20.0, name="spur")
    line = pp.create_line_from_parameters(net, mv, spur, 3.0, 0.16, 0.35, 260.0, 0.4)
    pp.create_switch(net, spur, line, et="l", closed=False)
    pp.create_sgen(net, previous, 1.5, q_mvar=-0.2)
    pp.create_shunt(net, mv, q_mvar=-1.0)
    yield "radial_dyn5_tap", net


@pytest.mark.parametrize("name, net", list(networks()), ids=lambda v: v if isinstance(v, str) else "")
def test_pandapower_network_solves_as_pandapower_solves_it(name, net, tmp_path):
    pp.to_json(net, str(tmp_path / "net.json"))
    loaded = pp.from_json(str(tmp_path / "net.json"))  # the file path users take
    mpc = mpc_from_pandapower(loaded)
    result = solve_ac(case_to_network(mpc, frequency_hz=mpc["frequency_hz"]))
    pp.runpp(net, trafo_model="pi", calculate_voltage_angles=True, tolerance_mva=1e-10)
    live = np.isfinite(net.res_bus.vm_pu.values)  # pandapower leaves an isolated bus NaN; gridcosim de-energises it
    assert np.abs(result.v_pu)[live] == pytest.approx(net.res_bus.vm_pu.values[live], abs=1e-6)
    assert np.degrees(np.angle(result.v_pu))[live] == pytest.approx(net.res_bus.va_degree.values[live], abs=1e-4)
    assert np.all(np.abs(result.v_pu)[~live] == 0.0)


@pytest.mark.parametrize("name, net", list(networks())[:2], ids=lambda v: v if isinstance(v, str) else "")
def test_mat_file_written_by_pandapower_solves_as_pandapower_solves_it(name, net, tmp_path):
    to_mpc(net, str(tmp_path / "case.mat"), init="flat")
    lookup = net._pd2ppc_lookups["bus"]
    result = solve_ac(case_to_network(read_mat(tmp_path / "case.mat"), frequency_hz=50.0))
    pp.runpp(net, calculate_voltage_angles=True, tolerance_mva=1e-10)
    rows = [lookup[i] for i in net.bus.index]
    assert np.abs(result.v_pu)[rows] == pytest.approx(net.res_bus.vm_pu.values, abs=1e-6)


def test_what_cannot_be_represented_is_refused_by_name(tmp_path):
    net = pn.example_simple()  # has a closed bus-bus switch
    with pytest.raises(PandapowerImportError, match="bus-bus switch"):
        mpc_from_pandapower(net)
    net = pn.create_cigre_network_mv()
    net.load.loc[net.load.index[0], "const_z_p_percent"] = 50.0
    with pytest.raises(PandapowerImportError, match="ZIP"):
        mpc_from_pandapower(net)
    (tmp_path / "x.mat").write_bytes(b"not a mat file")
    with pytest.raises(MatFileError, match="x.mat"):
        read_mat(tmp_path / "x.mat")


def test_a_scenario_takes_a_pandapower_file_or_a_mat_file_as_its_case(tmp_path, capsys):
    from cosim.api import Simulation

    net = pn.create_cigre_network_mv(with_der="pv_wind")
    pp.to_json(net, str(tmp_path / "cigre.json"))
    to_mpc(net, str(tmp_path / "cigre.mat"), init="flat")
    mat_rows = [int(net._pd2ppc_lookups["bus"][i]) for i in net.bus.index]  # to_mpc's bus order
    pp.runpp(net, trafo_model="pi", calculate_voltage_angles=True, tolerance_mva=1e-10)
    for case in ("cigre.json", "cigre.mat"):
        scenario = tmp_path / f"{case}.yaml"
        # pandapower's to_mpc writes Qmax = Qmin = 0 for the external grid, which Q-limit enforcement would honour.
        limits = "false" if case.endswith(".mat") else "true"
        scenario.write_text(
            "name: imported\nrun: {duration: 1min, step: 1min}\n"
            "actors: [{id: dso, domain: Distribution, role: CIGRE MV feeder}]\n"
            f"grid: {{case: {case}, frequency_hz: 50, solver: {{enforce_q_limits: {limits}}}}}\n")
        sim = Simulation(scenario)
        m = sim.measurements()
        names = sim.names("bus")
        if case.endswith(".json"):  # buses named by their pandapower index
            assert list(names) == [str(i) for i in net.bus.index]
        rows = range(len(net.bus)) if case.endswith(".json") else mat_rows
        for k, row in enumerate(rows):
            assert m.bus_voltage(names[row]).vm_pu == pytest.approx(net.res_bus.vm_pu.iloc[k], abs=1e-6)
        sim.finish()
    (tmp_path / "bad.mat").write_bytes(b"\0" * 10)
    (tmp_path / "bad.yaml").write_text("name: bad\nrun: {duration: 1min, step: 1min}\n"
                                       "actors: [{id: dso, domain: Distribution, role: feeder}]\ngrid: {case: bad.mat}\n")
    from cosim.cli import main
    assert main(["validate", str(tmp_path / "bad.yaml")]) == 2
    (tmp_path / "bad.m").write_text("function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = 100;\n")
    (tmp_path / "bad_m.yaml").write_text((tmp_path / "bad.yaml").read_text().replace("bad.mat", "bad.m"))
    assert main(["validate", str(tmp_path / "bad_m.yaml")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all("grid.case" in line for line in errors), errors
