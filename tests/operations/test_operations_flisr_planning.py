"""FLISR planning on the DMS's own model of configs/flisr_fibre.yaml: location, isolation, ties, return to normal."""

from pathlib import Path

import yaml

from cosim.operations.dms_model import DmsModel, Limits
from cosim.operations.flisr import locate_fault, plan_restoration, return_to_normal

CONFIG = Path(__file__).parents[2] / "configs" / "flisr_fibre.yaml"
MONITORED = {"rec1", "cb2", "s2", "s3", "tie"}


def model(limits: Limits = Limits()) -> DmsModel:
    return DmsModel.from_grid_section(yaml.safe_load(CONFIG.read_text())["grid"], CONFIG.parent, limits)


def bus_names(m: DmsModel, buses) -> set[str]:
    return {m.graph.buses[b] for b in buses}


def test_fault_between_two_indicators_is_located_between_them():
    m = model()
    normal = m.graph.normal_states()
    location = locate_fault(m.graph, normal, {"rec1", "s2"}, MONITORED)
    assert location is not None
    assert bus_names(m, location.faulted_buses) == {"n2"}
    assert location.upstream == "s2" and set(location.isolating) == {"s2", "s3"}


def test_no_report_no_location_and_silent_devices_bound_the_zone():
    m = model()
    normal = m.graph.normal_states()
    assert locate_fault(m.graph, normal, set(), MONITORED) is None
    location = locate_fault(m.graph, normal, {"rec1"}, MONITORED)  # only the breaker saw it: section l1
    assert bus_names(m, location.faulted_buses) == {"n1"} and set(location.isolating) == {"rec1", "s2"}


def test_tie_restores_the_healthy_downstream_section_when_the_power_flow_allows():
    m = model()
    normal = m.graph.normal_states()
    location = locate_fault(m.graph, normal, {"rec1", "s2"}, MONITORED)
    isolated = {**normal, "s2": False, "s3": False}
    plan, stranded = plan_restoration(m.graph, isolated, location.faulted_buses, m.graph.energised_buses(normal), ["tie"], m.check)
    assert [t.tie for t in plan] == ["tie"] and bus_names(m, plan[0].buses) == {"n3"} and not stranded
    assert plan[0].check.ok and plan[0].check.min_vm_pu > 0.95


def test_tie_is_refused_when_it_would_overload():
    m = model(Limits(max_loading_pct=30.0))  # F2's first section would carry about 36 %
    normal = m.graph.normal_states()
    location = locate_fault(m.graph, normal, {"rec1", "s2"}, MONITORED)
    isolated = {**normal, "s2": False, "s3": False}
    plan, stranded = plan_restoration(m.graph, isolated, location.faulted_buses, m.graph.energised_buses(normal), ["tie"], m.check)
    assert plan == [] and [bus_names(m, r) for r in stranded] == [{"n3"}]


def test_return_to_normal_closes_before_it_opens():
    m = model()
    after = {**m.graph.normal_states(), "s2": False, "s3": False, "tie": True}
    assert return_to_normal(m.graph, after) == [("s2", True), ("s3", True), ("tie", False)]


def test_rbts_bus2_config_is_the_generated_grid_and_solves():
    from cosim.operations.rbts import grid_section

    path = CONFIG.parent / "rbts_bus2.yaml"
    section = yaml.safe_load(path.read_text())["grid"]
    assert section == grid_section("rbts_bus2")
    m = DmsModel.from_grid_section(section, path.parent)
    assert sum(m.graph.load_customers) == 1908 and len(m.graph.load_names) == 22
    assert all(m.graph.energised_loads(m.graph.normal_states()))
    assert m.check(m.graph.normal_states()).ok


def test_rbts_bus2_devices_are_the_generated_protection():
    from cosim.operations.rbts import devices_section

    devices = yaml.safe_load((CONFIG.parent / "rbts_bus2.yaml").read_text())["devices"]
    assert devices == devices_section("rbts_bus2")
    assert sum(d["id"].startswith("relay_cb_") for d in devices) == 4 and sum(d["id"].startswith("fuse_lp") for d in devices) == 22


def test_shipped_reliability_scenarios_of_rbts_bus2_and_bus4_are_up_to_date(tmp_path):
    import shutil

    from cosim.operations.rbts import FLISR_VARIANTS, automated_switches, write_flisr_variants

    (tmp_path / "reliability").mkdir()
    shutil.copy(CONFIG.parent / "rbts_bus2.yaml", tmp_path / "rbts_bus2.yaml")
    written = write_flisr_variants(tmp_path)
    for path in written:
        assert path.read_text() == (CONFIG.parent / "reliability" / path.name).read_text(), path.name
    assert set(FLISR_VARIANTS) == {"flisr_fibre", "flisr_cellular"} and len(written) == 6
    assert len(automated_switches("rbts_bus2")) == 12  # ten disconnects and two normally-open points
    # Bus 4: 51 disconnects (the data put one at both ends of 22 main sections, at the downstream end of 7) and a
    # normally-open point at each of the seven feeders' far ends
    assert len(automated_switches("rbts_bus4")) == 2 * 22 + 7 + 7


def test_a_line_switched_at_both_ends_is_a_zone_of_its_own_found_at_its_two_ends():
    # RBTS Bus 4 section 44 runs from the substation (n68, feeder breaker cb_s44) to n57 (disconnect d_s44_down).
    from cosim.operations.rbts import grid_section

    m = DmsModel.from_grid_section(grid_section("rbts_bus4"), CONFIG.parent)
    monitored = {"cb_s44", "d_s44_down", "d_s46", "d_s46_down", "fuse_lp26"}
    location = locate_fault(m.graph, m.graph.normal_states(), {"cb_s44"}, monitored)
    assert location is not None
    assert bus_names(m, location.faulted_buses) == {"s44~line"} and set(location.isolating) == {"cb_s44", "d_s44_down"}
    assert m.graph.sites(location.faulted_buses) == ("n57", "n68")  # where a crew finds it
    assert all(m.graph.energised_loads(m.graph.normal_states())) and m.check(m.graph.normal_states()).ok
