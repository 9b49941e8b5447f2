"""The RBTS distribution systems as a scenario ``grid:`` section, built from the reliability data.

One job: turn the shipped RBTS tables (:mod:`cosim.reliability.data`) into the
inline grid a co-simulation runs: one 11 kV bus per node (``n<node>``), one
line per section, the feeder breakers, a fuse at the head of every lateral,
the disconnects where the data put them, and the normally-open ties. The
tables give no impedances or ratings; the values here are stated
assumptions (``R_OHM_PER_KM``, ``X_OHM_PER_KM``, ``RATE_MVA``, the tie length).
``configs/rbts_bus2.yaml`` holds this section for Bus 2 (a test checks it is
up to date).
"""

from __future__ import annotations

from typing import Any

import csv

from cosim.reliability.data import DATA_DIR, load_system

R_OHM_PER_KM = 0.30  # typical 11 kV overhead conductor (assumption; the RBTS data give none)
X_OHM_PER_KM = 0.35
RATE_MVA = 8.0
TIE_KM = 0.5  # length of a tie line between two feeders' far ends (assumption)
POWER_FACTOR_Q_PER_P = 0.2  # Q = 0.2 P (pf about 0.98)


def grid_section(system: str = "rbts_bus2") -> dict[str, Any]:
    data = load_system(system)
    sections, lps = data.sections, data.load_points
    switches: list[dict[str, Any]]
    with open(DATA_DIR / f"{system}_ties.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tie_rows = [row for row in rows if row["partner_node"]]
    alternative = [int(row["node"]) for row in rows if not row["partner_node"]]
    nodes = sorted({int(n) for n in sections.from_node} | {int(n) for n in sections.to_node})
    lines: list[dict[str, Any]] = []
    switches = []
    for i in range(len(sections)):
        sid, f, t, km = int(sections.section_id[i]), int(sections.from_node[i]), int(sections.to_node[i]), float(sections.length_km[i])
        name = f"s{sid}"
        lines.append({"name": name, "from_bus": f"n{f}", "to_bus": f"n{t}", "r_ohm": round(R_OHM_PER_KM * km, 6),
                      "x_ohm": round(X_OHM_PER_KM * km, 6), "rate_a_mva": RATE_MVA})
        if sections.has_breaker[i]:
            switches.append({"name": f"cb_{name}", "branch": name, "bus": f"n{f}", "kind": "breaker"})
        if sections.has_fuse[i]:
            switches.append({"name": f"fuse_lp{int(sections.load_point_id[i])}", "branch": name, "bus": f"n{f}", "kind": "switch"})
        if sections.disconnect_upstream[i]:
            switches.append({"name": f"d_{name}", "branch": name, "bus": f"n{f}", "kind": "switch"})
        if sections.disconnect_downstream[i]:
            switches.append({"name": f"d_{name}_down", "branch": name, "bus": f"n{t}", "kind": "switch"})
    done = set()
    for a, b in ((row["node"], row["partner_node"]) for row in tie_rows):
        pair = tuple(sorted((int(a), int(b))))
        if pair in done:
            continue
        done.add(pair)
        name = f"tie_{pair[0]}_{pair[1]}"
        lines.append({"name": name, "from_bus": f"n{pair[0]}", "to_bus": f"n{pair[1]}", "r_ohm": R_OHM_PER_KM * TIE_KM,
                      "x_ohm": X_OHM_PER_KM * TIE_KM, "rate_a_mva": RATE_MVA})
        switches.append({"name": f"nop_{pair[0]}_{pair[1]}", "branch": name, "bus": f"n{pair[0]}", "kind": "switch", "closed": False})
    buses = [{"name": f"n{n}", "base_kv": 11} for n in nodes]
    substation = sorted({int(f) for f, breaker in zip(sections.from_node, sections.has_breaker) if breaker})
    if len(substation) != 1:
        raise ValueError(f"{system}: feeder breakers at nodes {substation}; one substation busbar expected")
    generators = [{"name": "infeed_33kv", "bus": f"n{substation[0]}", "vm_pu": 1.03, "slack": True, "xdss_pu": 0.4,
                   "mbase_mva": 100}]
    for node in alternative:
        # The data name a normally-open point to an alternative supply without saying which: as the analytic method
        # assumes, a source of ample capacity behind a tie of TIE_KM (a generator at its own bus; the island's slack
        # while the tie is open, a voltage-controlled unit if a transfer briefly parallels it with the substation).
        buses.append({"name": f"alt{node}", "base_kv": 11})
        generators.append({"name": f"alt_supply_{node}", "bus": f"alt{node}", "vm_pu": 1.03, "xdss_pu": 0.4, "mbase_mva": 100})
        lines.append({"name": f"tie_{node}_alt", "from_bus": f"n{node}", "to_bus": f"alt{node}", "r_ohm": R_OHM_PER_KM * TIE_KM,
                      "x_ohm": X_OHM_PER_KM * TIE_KM, "rate_a_mva": RATE_MVA})
        switches.append({"name": f"nop_{node}", "branch": f"tie_{node}_alt", "bus": f"n{node}", "kind": "switch", "closed": False})
    lateral_node = {int(lp): int(t) for lp, t in zip(sections.load_point_id, sections.to_node) if int(lp) >= 0}
    loads = [{"name": f"lp{int(lp)}", "bus": f"n{lateral_node[int(lp)]}", "p_mw": float(kw) / 1000.0,
              "q_mvar": round(float(kw) / 1000.0 * POWER_FACTOR_Q_PER_P, 6), "customers": int(c)}
             for lp, kw, c in zip(lps.load_point_id, lps.average_load_kw, lps.customers)]
    return {
        "base_mva": 100, "frequency_hz": 50,
        "buses": buses,
        "generators": generators,
        "lines": lines, "switches": switches, "loads": loads,
    }


BREAKER_RELAY = {"pickup_51_a": 400, "curve": "ieee_very_inverse", "time_dial": 2.0, "sample_period_s": 600}
"""Feeder breaker relays (assumed settings; the RBTS data give none): slower than every lateral 'fuse'."""

FUSE_RELAY = {"pickup_51_a": 150, "curve": "ieee_extremely_inverse", "time_dial": 0.5, "pickup_50_a": 600,
              "delay_50_s": 0.02, "sample_period_s": 600}
"""A lateral fuse modelled as a relay on the lateral's head switch: a fast 50 element (0.02 s above 600 A)
and an extremely inverse 51, so it clears a lateral fault long before the breaker relay's curve. Unlike
a fuse it can be closed again over Modbus (here, after the crew's repair)."""


def devices_section(system: str = "rbts_bus2") -> list[dict[str, Any]]:
    """Protection devices for :func:`grid_section`: a relay at every feeder breaker, a 'fuse' relay at every lateral.

    Breaker relays sit on comm node ``substation`` (units 1..), fuse relays on
    a field gateway node ``laterals`` (unit = load point number).
    """
    data = load_system(system)
    sections = data.sections
    devices: list[dict[str, Any]] = []
    unit = 0
    for i in range(len(sections)):
        name = f"s{int(sections.section_id[i])}"
        if sections.has_breaker[i]:
            unit += 1
            devices.append({"id": f"relay_cb_{name}", "kind": "protective_relay", "node": "substation", "unit_id": unit,
                            "switch": f"cb_{name}", "params": dict(BREAKER_RELAY)})
    for i in range(len(sections)):
        if sections.has_fuse[i]:
            lp = int(sections.load_point_id[i])
            devices.append({"id": f"fuse_lp{lp}", "kind": "protective_relay", "node": "laterals", "unit_id": lp,
                            "switch": f"fuse_lp{lp}", "params": dict(FUSE_RELAY)})
    return devices


def automated_switches(system: str = "rbts_bus2") -> list[str]:
    """The disconnects and normally-open points of :func:`grid_section`: what feeder automation puts RTUs on."""
    return [s["name"] for s in grid_section(system)["switches"] if s["name"].startswith(("d_", "nop_"))]


def rtu_entry(switch: str, unit_id: int, node: str) -> dict[str, Any]:
    """A pole-top RTU with a motor operator and a fault-passage indicator on ``switch`` (as in configs/flisr_fibre.yaml)."""
    points = [{"name": "closed", "kind": "status", "source": f"switch/{switch}:closed"},
              {"name": "fault_indicator", "kind": "status", "source": f"switch/{switch}:fault_indicator"},
              {"name": "open_command", "kind": "control", "source": f"switch/{switch}:open"},
              {"name": "close_command", "kind": "control", "source": f"switch/{switch}:close"},
              {"name": "reset_indicator", "kind": "control", "source": f"switch/{switch}:reset_indicator"}]
    return {"id": f"rtu_{switch}", "kind": "rtu", "node": node, "unit_id": unit_id,
            "params": {"fault_indicator_a": 400, "sample_period_s": 600, "points": points}}


def flisr_variant(base: dict[str, Any], link: dict[str, Any], *, relay_scan_s: float, rtu_scan_s: float,
                  system: str = "rbts_bus2", name: str = "rbts_bus2_flisr", network_model: str = "../rbts_bus2.yaml") -> dict[str, Any]:
    """``base`` (the scenario of configs/rbts_bus2.yaml) with feeder automation: an RTU on every disconnect and tie.

    The RTUs hang on comm node ``feeder_rtus``, linked to the control centre
    by ``link`` (a profile and its degradations); SCADA polls the breaker
    relays every ``relay_scan_s`` and the RTUs every ``rtu_scan_s``; the DMS
    uses configs/rbts_bus2.yaml as its network model.
    """
    import copy

    spec = copy.deepcopy(base)
    spec["name"] = name
    switches = automated_switches(system)
    spec["devices"] = list(spec["devices"]) + [rtu_entry(s, i + 1, "feeder_rtus") for i, s in enumerate(switches)]
    spec["comm"]["nodes"] = list(spec["comm"]["nodes"]) + [{"id": "feeder_rtus", "actor": "bus2_substation"}]
    spec["comm"]["links"] = list(spec["comm"]["links"]) + [{"a": "control_centre", "b": "feeder_rtus", **link}]
    centre = next(a for a in spec["actors"] if a["id"] == "control_centre")
    scada = next(a for a in centre["applications"] if a["kind"] == "scada_master")["params"]
    scada["poll"] = list(scada["poll"]) + [f"rtu_{s}" for s in switches]
    relays = [d for d in scada["poll"] if d.startswith("relay_")]
    scada["scan_overrides_s"] = {**{d: relay_scan_s for d in relays}, **{f"rtu_{s}": rtu_scan_s for s in switches}}
    dms = next(a for a in centre["applications"] if a["kind"] == "dms_flisr")["params"]
    dms["network_model"] = network_model
    spec["events"] = []
    return spec


def report_by_exception(spec: dict[str, Any], *, integrity_s: float, name: str) -> dict[str, Any]:
    """``spec`` with every field device reporting by exception and SCADA running integrity polls only.

    Status points (breaker and switch positions, trips, fault indicators) are
    reported the instant they change, over MQTT to the scenario's broker; the
    SCADA master polls each device only every ``integrity_s`` (a modern SCADA
    with DNP3 unsolicited reporting and hourly integrity polls, IEEE 1815-2012
    13.2). Its report client sits on its own node ``scada_front_end`` (a node
    holds one MQTT client and the DMS's crew channel holds the control
    centre's). MQTT keep-alives are accounted, not simulated (docs/comm.md):
    they carry no information and would otherwise be most of a quiet day's
    events. What SCADA learns, and when, is the same as a poll-free master's.
    """
    import copy

    spec = copy.deepcopy(spec)
    spec["name"] = name
    broker = spec["comm"]["mqtt"]["brokers"][0]["node"]
    for device in spec["devices"]:
        device["params"] = {**device["params"], "reporting": {"mode": "rbe", "broker": broker}}
    spec["comm"] = {"keep_alives": "account", **spec["comm"]}
    spec["comm"]["nodes"] = list(spec["comm"]["nodes"]) + [{"id": "scada_front_end", "actor": "control_centre"}]
    spec["comm"]["links"] = list(spec["comm"]["links"]) + [{"a": "scada_front_end", "b": "control_centre", "profile": "lan"}]
    centre = next(a for a in spec["actors"] if a["id"] == "control_centre")
    scada = next(a for a in centre["applications"] if a["kind"] == "scada_master")["params"]
    scada["integrity_s"] = integrity_s
    scada["reports_node"] = "scada_front_end"
    return spec


INTEGRITY_S = 3600.0
"""Integrity poll period of the reliability scenarios' SCADA (s): hourly, a common DNP3 practice with unsolicited reporting."""

FLISR_VARIANTS: dict[str, tuple[dict[str, Any], float, float]] = {
    "flisr_fibre": ({"profile": "fibre_wan"}, 2.0, 10.0),
    "flisr_cellular": ({"profile": "lte", "latency_s": {"dist": "lognormal", "median_s": 0.3, "sigma": 0.6}, "loss": 0.05}, 2.0, 10.0),
}
"""Shipped feeder-automation variants (configs/reliability/<system>_<profile>.yaml): link to the RTUs, relay and RTU scans (s)."""

REPORT_COLLECTION_S = 30.0
"""How long the DMS of a lossy-link variant collects fault reports before it locates (s): several QoS 1 resend intervals."""

SYSTEMS = ("rbts_bus2", "rbts_bus4")
"""Systems whose co-simulation scenarios configs/reliability holds."""


def system_scenario(base: dict[str, Any], system: str, name: str, network_model: str) -> dict[str, Any]:
    """``base`` (configs/rbts_bus2.yaml: actors, crews, comm) for ``system``: its grid, protection, SCADA points and ties."""
    import copy

    spec = copy.deepcopy(base)
    grid, devices = grid_section(system), devices_section(system)
    spec["name"] = name
    customers = sum(load["customers"] for load in grid["loads"])
    feeders = sum(1 for s in grid["switches"] if s["name"].startswith("cb_"))
    spec["description"] = (f"RBTS {system.removeprefix('rbts_').replace('bus', 'Bus ')} distribution system ({feeders} 11 kV feeders, "
                           f"{len(grid['loads'])} load points, {customers} customers)")
    spec["grid"], spec["devices"] = grid, devices
    centre = next(a for a in spec["actors"] if a["id"] == "control_centre")
    scada = next(a for a in centre["applications"] if a["kind"] == "scada_master")["params"]
    scada["poll"] = [d["id"] for d in devices]
    scada["scan_overrides_s"] = {d["id"]: 60 for d in devices if d["id"].startswith("relay_")}
    dms = next(a for a in centre["applications"] if a["kind"] == "dms_flisr")["params"]
    dms["network_model"] = network_model
    dms["ties"] = [s["name"] for s in grid["switches"] if s["name"].startswith("nop_")]
    spec["events"] = []
    return spec


def write_flisr_variants(configs: Any) -> list[Any]:
    """Write the reliability studies' co-simulation scenarios into configs/reliability (a test checks they are up to date).

    For each of :data:`SYSTEMS`: ``<system>_manual`` (no automation: crews
    switch by hand) and the :data:`FLISR_VARIANTS` (feeder automation over a
    link), all with devices reporting by exception and hourly integrity polls
    (:func:`report_by_exception`). Bus 2's grid and protection are those of
    configs/rbts_bus2.yaml; Bus 4's are generated the same way.
    """
    import yaml

    base = yaml.safe_load((configs / "rbts_bus2.yaml").read_text())
    written = []
    for system in SYSTEMS:
        manual_name = f"{system}_manual"
        model = "../rbts_bus2.yaml" if system == "rbts_bus2" else f"{manual_name}.yaml"
        source = "configs/rbts_bus2.yaml" if system == "rbts_bus2" else f"cosim.operations.rbts.grid_section('{system}')"
        spec = system_scenario(base, system, manual_name, model) if system != "rbts_bus2" else {**base, "events": []}
        centre = next(a for a in spec["actors"] if a["id"] == "control_centre")
        next(a for a in centre["applications"] if a["kind"] == "dms_flisr")["params"]["network_model"] = model
        path = configs / "reliability" / f"{manual_name}.yaml"
        path.write_text(f"# {spec['description'].split(' (')[0]} from {source} (generated by cosim.operations.rbts.write_flisr_variants):\n"
                        "# no automation on the main feeders, crews switch the disconnects and ties by hand; the breaker relays and\n"
                        f"# lateral 'fuses' report by exception, SCADA runs integrity polls every {INTEGRITY_S:g} s. Used by the co-simulated\n"
                        f"# reliability studies configs/reliability/{system}_cosim_manual_*.yaml.\n"
                        + yaml.safe_dump(report_by_exception(spec, integrity_s=INTEGRITY_S, name=manual_name), sort_keys=False, width=140))
        written.append(path)
        for profile, (link, relay_scan_s, rtu_scan_s) in FLISR_VARIANTS.items():
            name = f"{system}_{profile}"
            path = configs / "reliability" / f"{name}.yaml"
            header = (f"# {spec['description'].split(' (')[0]} with feeder automation (generated by cosim.operations.rbts.write_flisr_variants\n"
                      f"# from {source}): an RTU with a motor operator and a fault-passage indicator on every\n"
                      f"# disconnect and normally-open point, on comm node feeder_rtus ({link['profile']}). Every device reports by\n"
                      f"# exception; SCADA runs integrity polls every {INTEGRITY_S:g} s (its scans, breaker relays {relay_scan_s:g} s and\n"
                      f"# RTUs {rtu_scan_s:g} s, apply to a device switched back to polling). Used by the co-simulated\n"
                      f"# reliability studies configs/reliability/{system}_cosim_{profile}_*.yaml.\n")
            variant = flisr_variant(spec, link, relay_scan_s=relay_scan_s, rtu_scan_s=rtu_scan_s, system=system, name=name, network_model=model)
            if link.get("loss"):
                # Over a lossy link a fault indicator's report can come seconds after the breaker's (QoS 1 resends it):
                # the DMS collects reports for a while before it locates, or it locates upstream of the fault.
                dms = next(a for a in next(a for a in variant["actors"] if a["id"] == "control_centre")["applications"]
                           if a["kind"] == "dms_flisr")["params"]
                dms["processing_delay_s"] = REPORT_COLLECTION_S
            path.write_text(header + yaml.safe_dump(report_by_exception(variant, integrity_s=INTEGRITY_S, name=name), sort_keys=False, width=140))
            written.append(path)
    return written
