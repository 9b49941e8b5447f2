"""The grid: section validates with errors that name the field, and builds the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from cosim.grid.acflow import solve_ac
from cosim.grid.config import CASES_DIR, GridBuildError, GridConfig, build_network

BASE = {
    "buses": [{"name": "a", "base_kv": 20, "slack": True}, {"name": "b", "base_kv": 20}],
    "lines": [{"name": "l", "from_bus": "a", "to_bus": "b", "r_ohm": 0.4, "x_ohm": 0.8}],
    "generators": [{"name": "g", "bus": "a"}],
}


def errors(section: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as info:
        GridConfig.model_validate(section)
    return [(e["loc"], e["msg"]) for e in info.value.errors()]


def test_unknown_bus_is_named_with_its_field() -> None:
    bad = {**BASE, "loads": [{"name": "d", "bus": "b"}, {"name": "e", "bus": "zz", "p_mw": 1}]}
    bad["loads"][0]["p_mw"] = 1
    [(loc, msg)] = errors(bad)
    assert loc == ("loads",)
    assert "item 1 (e)" in msg and "bus 'zz'" in msg


def test_switch_must_name_a_branch_and_names_are_unique() -> None:
    [(loc, msg)] = errors({**BASE, "switches": [{"name": "s", "branch": "nope"}]})
    assert loc == ("switches",) and "'nope'" in msg
    [(loc, msg)] = errors({**BASE, "buses": BASE["buses"] + [{"name": "a", "base_kv": 1}]})
    assert loc == ("buses",) and "duplicate" in msg


def test_unknown_keys_and_bad_values_are_reported_all_together() -> None:
    found = errors({**BASE, "colour": "red",
                    "buses": [{"name": "a", "base_kv": -1}, {"name": "b", "base_kv": 20, "kv": 1}]})
    locs = {loc for loc, _ in found}
    assert ("colour",) in locs and ("buses", 0, "base_kv") in locs and ("buses", 1, "kv") in locs


def test_line_impedance_in_one_unit_system() -> None:
    [(loc, msg)] = errors({**BASE, "lines": [{"name": "l", "from_bus": "a", "to_bus": "b",
                                              "x_pu": 0.1, "r_ohm": 1}]})
    assert loc == ("lines", 0) and "mix" in msg


def test_physical_units_are_converted_to_pu() -> None:
    net = build_network(GridConfig.model_validate({
        **BASE, "transformers": [{"name": "t", "hv_bus": "a", "lv_bus": "b", "sn_mva": 25,
                                  "vk_percent": 10, "vkr_percent": 0.6}]}), Path("."))
    z_base = 20.0**2 / 100.0
    assert net.branches.r_pu[0] == pytest.approx(0.4 / z_base)
    assert net.branches.x_pu[0] == pytest.approx(0.8 / z_base)
    assert net.branches.x_pu[1] == pytest.approx(np.sqrt(0.4**2 - 0.024**2))
    assert net.branches.is_transformer.tolist() == [False, True]
    assert net.branches.rate_a_mva[1] == 25


def test_case_file_relative_to_the_scenario_plus_inline_additions(tmp_path: Path, balanced) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "grids").mkdir()
    (tmp_path / "grids" / "c9.json").write_text((CASES_DIR / "case9.json").read_text())
    config = GridConfig.model_validate({
        "case": "grids/c9.json", "frequency_hz": 50,
        "buses": [{"name": "feeder", "base_kv": 345}],
        "lines": [{"name": "spur", "from_bus": "5", "to_bus": "feeder", "x_pu": 0.05}],
        "loads": [{"name": "spur_load", "bus": "feeder", "p_mw": 10, "customers": 40}],
        "switches": [{"name": "spur_cb", "branch": "spur", "bus": "5"}]})
    net = build_network(config, tmp_path)
    assert net.n_bus == 10 and net.frequency_hz == 50 and net.buses.name[-1] == "feeder"
    result = solve_ac(net)
    assert result.converged
    balanced(result)


def test_shipped_case_by_name_and_build_errors() -> None:
    net = build_network(GridConfig.model_validate({"case": "case118"}), Path("/nonexistent"))
    assert net.n_bus == 118
    with pytest.raises(GridBuildError, match=r"loads\.0\.bus: '999'"):
        build_network(GridConfig.model_validate(
            {"case": "case9", "loads": [{"name": "x", "bus": "999", "p_mw": 1}]}), Path("."))
    with pytest.raises(GridBuildError, match="not found"):
        build_network(GridConfig.model_validate({"case": "missing.m"}), Path("."))


def test_an_inline_grid_needs_a_source() -> None:
    [(loc, msg)] = errors({"buses": BASE["buses"]})
    assert "generator" in msg
