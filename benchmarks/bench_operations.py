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

Run:  python benchmarks/bench_operations.py [--days 2] [--rate 100] [--scans configured 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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


def run(days: float, rate: float, scan: str, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(scenario_text(days, rate, scan, seed))
        scenario = load_scenario(path)
        out = Path(tmp) / "out"
        world, _ = build_world(scenario, out)
        start_recording(world, scenario, out)
        started = time.perf_counter()
        world.run(scenario.spec.run.duration)
        wall = time.perf_counter() - started
        finish_recording(world, scenario, out, "completed", None, wall)
        events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
        messages = sum(1 for _ in (out / "messages.csv").open()) - 1
    kinds = [e["kind"] for e in events]
    scada = world.service("scada/control_centre")
    simulated = scenario.spec.run.duration
    return {
        "wall_s": wall, "simulated_s": simulated, "faults": kinds.count("stochastic_fault"),
        "incidents": kinds.count("flisr_detected"), "normal": kinds.count("flisr_normal"),
        "momentary": kinds.count("flisr_momentary"), "polls": scada.polls, "messages": messages,
        "years_per_wall_min": simulated / SECONDS_PER_YEAR / (wall / 60.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=100.0, help="failures per km-year (accelerated)")
    parser.add_argument("--scans", nargs="+", default=["configured", "60"], help="'configured' or a uniform scan in s")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
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
