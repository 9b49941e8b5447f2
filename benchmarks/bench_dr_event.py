"""One DR event day with 50,000 end-use sites, through the whole simulation (`cosim run`).

Writes a variant of configs/pjm_dr.yaml with the site count scaled (same
zones, CSPs, events), runs it with the `cosim run` command in a subprocess and
prints the wall time of the full run (load, simulate 25 h, M&V, settlement,
bills, the per-site and per-ZIP DR tables, writing every result file), its
CPU time and peak resident memory, the load average (the machine may be
shared) and the sizes of the result tables. A run whose billing or
settlement did not complete shows it as 0 rows.

    python benchmarks/bench_dr_event.py [--sites 50000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def variant(sites: int, folder: Path) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "pjm_dr.yaml").read_text())
    raw["name"] = f"pjm_dr_{sites}"
    for device in raw["devices"]:
        if device["kind"] == "dr_site_population":
            zones = device["params"]["zones"]
            for k, zone in enumerate(zones):
                zone["sites"] = sites // len(zones) + (1 if k < sites % len(zones) else 0)
    for actor in raw["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "iso_market":
                app["params"]["energy"]["case"] = str(ROOT / "configs" / "pjm5bus_sced.yaml")
    path = folder / f"pjm_dr_{sites}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def rows(path: Path) -> int:
    with open(path, newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the scenario and results (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scenario = variant(args.sites, folder)
        out = folder / "out"
        command = [sys.executable, "-m", "cosim.cli", "run", str(scenario), "--out", str(out)]
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = json.loads((out / "manifest.json").read_text())
        print(f"sites: {args.sites:,}  simulated: {manifest['simulated_time_s'] / 3600:.0f} h")
        print(f"wall time, whole `cosim run` process: {wall:.1f} s  (run loop alone: {manifest['wall_time_s']:.1f} s)")
        # On a shared machine the wall time includes waiting for a core; the CPU time is the work itself.
        print(f"CPU time of the process: {usage.ru_utime + usage.ru_stime:.1f} s  (user {usage.ru_utime:.1f} s)")
        print(f"peak resident memory: {usage.ru_maxrss / 1024:,.0f} MB  load average: "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        for name in ("bills", "settlement", "dr_performance", "dr_sites", "dr_zips", "dr_plan_review", "lm_dispatch",
                     "messages"):
            path = out / f"{name}.csv"
            print(f"  {name}.csv: {rows(path):,} rows" if path.exists() else f"  {name}.csv: missing")
        size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        print(f"  results: {size:.0f} MB")


if __name__ == "__main__":
    main()
