"""Speed of the co-simulated FLISR system with stochastic faults (printed; never asserted in tests).

The system of configs/flisr_fibre.yaml -- real devices (recloser, F2 relay,
three switch RTUs with fault-passage indicators) on the simulated network,
SCADA polling them over Modbus, the DMS, OMS, crews over MQTT and the
served-load truth -- with the scripted fault replaced by stochastic faults on
the five feeder sections. Faults are accelerated (``--rate`` failures per
km-year, default 100: about one fault every 18 h on the 5 km) so a run of a
few simulated days sees several incidents; the cost of a quiet day is the
SCADA polling, so the figure per simulated year barely depends on the rate.

Reports simulated years per wall minute for each SCADA scan setting:
``configured`` (2 s substation devices, 10 s pole-top RTUs) and uniform
longer scans.

With ``--rbts DAYS``: RBTS Bus 2 co-simulated (configs/rbts_bus2.yaml: breaker
relays, lateral 'fuse' relays, SCADA, DMS, OMS, two crews) for DAYS with
stochastic line faults at ``--rbts-accel`` x 0.065 f/km-yr on every section,
SCADA scans 300 s; the truth's SAIFI and SAIDI divided by the acceleration
are compared with the published indices and with the expectation of the same
model worked out by hand (line failures only, every interruption lasts the
crew's travel + repair: this DMS has no fault indicators on the main feeder
and does not switch disconnects by hand).

Run:  python benchmarks/bench_operations.py [--days 2] [--rate 100] [--scans configured 60]
      python benchmarks/bench_operations.py --rbts 60 [--rbts-accel 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from typing import Any
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosim.runner import build_world, finish_recording, start_recording  # noqa: E402
from cosim.scenario import load_scenario  # noqa: E402

CONFIG = ROOT / "configs" / "flisr_fibre.yaml"
SECONDS_PER_YEAR = 8760 * 3600.0


def scenario_text(days: float, rate: float, scan: str, seed: int) -> str:
    data = yaml.safe_load(CONFIG.read_text())
    data["name"] = f"bench_operations_{scan}"
    data["run"] = {"duration": f"{days}d", "step": "1h", "seed": seed}
    for actor in data["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "dms_flisr":
                app["params"]["network_model"] = str(CONFIG)
            if app["kind"] == "scada_master" and scan != "configured":
                app["params"]["scan_s"] = float(scan)
                app["params"]["scan_overrides_s"] = {}
    data["events"] = [{"at": 0, "kind": "stochastic_faults", "params": {
        "lines_km": {"l1": 1.0, "l2": 1.0, "l3": 1.0, "l4": 1.0, "l5": 1.0},
        "failure_rate_per_km_year": rate, "temporary_fraction": 0.5, "temporary_duration_s": 0.5, "repair": "crew"}}]
    return yaml.safe_dump(data, sort_keys=False)


def run_text(text: str) -> tuple[Any, Any, float, list[dict[str, Any]], int]:
    """Run a scenario given as YAML text to its end, results in a temporary folder.

    Returns the world, the scenario, the wall seconds of the run loop alone,
    the event log and the number of messages traced.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        scenario = load_scenario(path)
        out = Path(tmp) / "out"
        world, _ = build_world(scenario, out)
        start_recording(world, scenario, out)
        started = time.perf_counter()
        world.run(scenario.spec.run.duration)
        wall = time.perf_counter() - started
        finish_recording(world, scenario, out, "completed", None, wall)
        events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
        messages = sum(1 for _ in (out / "messages.csv").open()) - 1 if (out / "messages.csv").exists() else 0
    return world, scenario, wall, events, messages


def run(days: float, rate: float, scan: str, seed: int) -> dict[str, float]:
    world, scenario, wall, events, messages = run_text(scenario_text(days, rate, scan, seed))
    kinds = [e["kind"] for e in events]
    scada = world.service("scada/control_centre")
    simulated = scenario.spec.run.duration
    return {
        "wall_s": wall, "simulated_s": simulated, "faults": kinds.count("stochastic_fault"),
        "incidents": kinds.count("flisr_detected"), "normal": kinds.count("flisr_normal"),
        "momentary": kinds.count("flisr_momentary"), "polls": scada.polls, "messages": messages,
        "years_per_wall_min": simulated / SECONDS_PER_YEAR / (wall / 60.0),
    }


RBTS = ROOT / "configs" / "rbts_bus2.yaml"


def rbts_text(days: float, accel: float, seed: int) -> str:
    from cosim.reliability.data import load_system

    data = yaml.safe_load(RBTS.read_text())
    data["name"] = "bench_rbts_bus2"
    data["run"] = {"duration": f"{days}d", "step": "1d", "seed": seed}
    sections = load_system("rbts_bus2").sections
    lines_km = {f"s{int(i)}": float(km) for i, km in zip(sections.section_id, sections.length_km)}
    for actor in data["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "dms_flisr":
                app["params"]["network_model"] = str(RBTS)
            if app["kind"] == "scada_master":
                app["params"]["scan_s"] = 300.0
                app["params"]["scan_overrides_s"] = {}
    data["events"] = [{"at": 0, "kind": "stochastic_faults", "params": {
        "lines_km": lines_km, "failure_rate_per_km_year": 0.065 * accel, "repair": "crew"}}]
    return yaml.safe_dump(data, sort_keys=False)


def rbts_expected(travel_mean_h: float, repair_mean_h: float) -> tuple[float, float]:
    """SAIFI, SAIDI of line failures when every affected customer waits for travel + repair (no switching)."""
    from cosim.reliability.data import load_system

    data = load_system("rbts_bus2")
    sec, lps = data.sections, data.load_points
    customers = {int(lp): int(c) for lp, c in zip(lps.load_point_id, lps.customers)}
    total = sum(customers.values())
    # feeder of each section and load point: walk from the breaker sections (node 24) along the data
    feeder_of_node: dict[int, int] = {}
    for i in range(len(sec)):
        if sec.has_breaker[i]:
            feeder_of_node[int(sec.to_node[i])] = int(sec.section_id[i])
    changed = True
    while changed:
        changed = False
        for i in range(len(sec)):
            f, t = int(sec.from_node[i]), int(sec.to_node[i])
            if f in feeder_of_node and t not in feeder_of_node:
                feeder_of_node[t] = feeder_of_node[f]
                changed = True
    feeder_customers: dict[int, int] = {}
    for i in range(len(sec)):
        lp = int(sec.load_point_id[i])
        if lp >= 0:
            feeder = feeder_of_node[int(sec.from_node[i])]
            feeder_customers[feeder] = feeder_customers.get(feeder, 0) + customers[lp]
    interruptions = 0.0
    for i in range(len(sec)):
        rate = 0.065 * float(sec.length_km[i])
        lp = int(sec.load_point_id[i])
        if lp >= 0:
            interruptions += rate * customers[lp]
        else:
            feeder = feeder_of_node.get(int(sec.to_node[i])) if sec.has_breaker[i] else feeder_of_node[int(sec.from_node[i])]
            interruptions += rate * feeder_customers[feeder]
    saifi = interruptions / total
    return saifi, saifi * (travel_mean_h + repair_mean_h)


def run_rbts(days: float, accel: float, seed: int) -> None:
    import math

    world, scenario, wall, events, _ = run_text(rbts_text(days, accel, seed))
    kinds = [e["kind"] for e in events]
    indices = {e["source"]: e for e in events if e["kind"] == "reliability_indices"}
    years_equivalent = days / 365.0 * accel
    travel_mean_h = 0.5 * math.exp(0.4 ** 2 / 2)  # field_crews: lognormal, median 30 min, sigma 0.4
    saifi_x, saidi_x = rbts_expected(travel_mean_h, 5.0)
    print(f"RBTS Bus 2 co-simulated: {days:g} days at {accel:g}x the line failure rate "
          f"(= {years_equivalent:.1f} years of faults), seed {seed}; wall {wall:.0f} s")
    print(f"faults {kinds.count('stochastic_fault')}, skipped while another was active {kinds.count('fault_skipped')}, "
          f"incidents {kinds.count('flisr_detected')}, back to normal {kinds.count('flisr_normal')}")
    repairs = [(e["travel_s"] + e["work_s"]) / 3600.0 for e in events if e["kind"] == "crew_work_done" and e["task"] == "repair"]
    if repairs:
        print(f"crew travel + repair in this sample: mean {sum(repairs) / len(repairs):.2f} h over {len(repairs)} repairs "
              f"(model: {travel_mean_h + 5.0:.2f} h); truth CAIDI {indices['truth']['system_caidi_hours']:.2f} h")
    print(f"{'index':>10} {'truth':>8} {'OMS':>8} {'model by hand':>14} {'published':>10}")
    for key, expected, published in (("system_saifi_per_year", saifi_x, 0.248), ("system_saidi_hours_per_year", saidi_x, 3.61)):
        print(f"{key.split('_')[1]:>10} {indices['truth'][key] / accel:8.3f} {indices['oms'][key] / accel:8.3f} "
              f"{expected:14.3f} {published:10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=100.0, help="failures per km-year (accelerated)")
    parser.add_argument("--scans", nargs="+", default=["configured", "60"], help="'configured' or a uniform scan in s")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rbts", type=float, default=0.0, help="simulated days of RBTS Bus 2 instead (0: skip)")
    parser.add_argument("--rbts-accel", type=float, default=100.0, help="failure-rate acceleration for --rbts")
    args = parser.parse_args()
    if args.rbts:
        run_rbts(args.rbts, args.rbts_accel, args.seed)
        return
    print(f"FLISR co-simulation (configs/flisr_fibre.yaml devices), {args.days:g} simulated days, "
          f"{args.rate:g} failures/km-yr on 5 km, seed {args.seed}")
    print(f"{'scan':>11} {'wall s':>8} {'sim/wall':>9} {'faults':>6} {'incid.':>6} {'normal':>6} {'moment.':>7} "
          f"{'polls':>8} {'messages':>9} {'sim years / wall min':>21}")
    for scan in args.scans:
        r = run(args.days, args.rate, scan, args.seed)
        print(f"{scan:>11} {r['wall_s']:8.1f} {r['simulated_s'] / r['wall_s']:9.0f} {r['faults']:6d} {r['incidents']:6d} "
              f"{r['normal']:6d} {r['momentary']:7d} {r['polls']:8d} {r['messages']:9d} {r['years_per_wall_min']:21.4f}")


if __name__ == "__main__":
    main()
