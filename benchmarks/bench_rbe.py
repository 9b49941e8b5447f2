"""Polling against report by exception: simulated years per wall minute, messages, and where wall time goes.

Runs configs/rbts_bus2.yaml and configs/flisr_fibre.yaml (their scripted
faults, then quiet days) in three modes, changing only how the field devices
inform the SCADA master:

* ``poll``  -- the scenario as shipped: SCADA scans every device;
* ``mixed`` -- devices report status changes by exception (MQTT), SCADA keeps its scan;
* ``rbe``   -- devices report status at once and analogs beyond a 5 % deadband;
  SCADA only runs an integrity poll every ``--integrity`` seconds.

A variant gets a ``scada_front_end`` node on the control centre's LAN for the
master's MQTT client (the DMS's crew channel holds the control-centre node's
one client). Prints, per scenario and mode: simulated days run, wall seconds,
simulated years per wall minute, messages per simulated day by protocol,
SCADA polls and reports. With ``--profile``: the share of wall time in each
layer (grid, comm, devices, domains/operations, kernel/event loop, recorder)
from cProfile's own-time per function, attributed by source file.

``--keep-alive 0`` runs every MQTT client without keep-alives: not a
realistic setting but an upper bound of what accounting keep-alives instead
of simulating them (issue 13, comm side) can save, since in rbe mode they
are most of the remaining messages.

``--keep-alives account`` accounts MQTT keep-alives instead of simulating
each packet (``comm.keep_alives``, docs/comm.md).

Wall and CPU time (``time.process_time``) are printed with the load average:
on a shared machine CPU time is the figure to compare.

Run:  python benchmarks/bench_rbe.py [--days-poll 2] [--days-rbe 60] [--integrity 3600] [--profile] [--keep-alive 0]
                                     [--keep-alives account]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosim.comm.network import CommNetwork  # noqa: E402
from cosim.runner import build_world, finish_recording, start_recording  # noqa: E402
from cosim.scenario import load_scenario  # noqa: E402

SECONDS_PER_YEAR = 8760 * 3600.0
SCENARIOS = {"rbts_bus2": ROOT / "configs" / "rbts_bus2.yaml", "flisr_fibre": ROOT / "configs" / "flisr_fibre.yaml"}
LAYERS = (  # first match wins: (layer, path fragment)
    ("grid", "/cosim/grid/"), ("comm", "/cosim/comm/"), ("comm", "/pymodbus/"),
    ("devices", "/devices/"), ("domains/operations", "/cosim/domains/"), ("domains/operations", "/cosim/operations/"),
    ("domains/operations", "/cosim/events/"), ("recorder", "/cosim/kernel/recorder"), ("kernel/event loop", "/simpy/"),
    ("kernel/event loop", "/cosim/kernel/"),
)


def variant(path: Path, mode: str, days: float, integrity_s: float, keep_alives: str = "simulate") -> str:
    """The scenario at ``path`` with every device reporting in ``mode`` (poll: unchanged but for the duration)."""
    data = yaml.safe_load(path.read_text())
    data["name"] = f"{data['name']}_{mode}"
    data["run"]["duration"] = f"{days}d"
    data["comm"]["keep_alives"] = keep_alives
    for actor in data["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "dms_flisr":
                app["params"]["network_model"] = str(path)
            if app["kind"] == "scada_master" and mode != "poll":
                app["params"]["reports_node"] = "scada_front_end"
                app["params"]["integrity_s"] = integrity_s
    if mode != "poll":
        data["comm"]["nodes"].append({"id": "scada_front_end", "actor": "control_centre"})
        data["comm"]["links"].append({"a": "scada_front_end", "b": "control_centre", "profile": "lan"})
        broker = data["comm"]["mqtt"]["brokers"][0]["node"]
        for device in data["devices"]:
            device.setdefault("params", {})["reporting"] = {"mode": mode, "broker": broker, "deadband_pct": 5}
    return yaml.safe_dump(data, sort_keys=False)


def run(text: str, workdir: Path, profile: cProfile.Profile | None = None) -> dict[str, Any]:
    path = workdir / "scenario.yaml"
    path.write_text(text)
    scenario = load_scenario(path)
    out = workdir / "out"
    world, _ = build_world(scenario, out)
    start_recording(world, scenario, out)
    duration = scenario.spec.run.duration
    started, cpu_started = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    world.run(duration)
    if profile is not None:
        profile.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finish_recording(world, scenario, out, "completed", None, wall)
    scada = world.service("scada/control_centre")
    days = duration / 86400.0
    return {"days": days, "wall_s": wall, "cpu_s": cpu, "years_per_min": duration / SECONDS_PER_YEAR / (wall / 60.0),
            "years_per_cpu_min": duration / SECONDS_PER_YEAR / (cpu / 60.0),
            "accounted": dict(world.service("comm").trace.accounted),
            "messages_per_day": {k: v / days for k, v in sorted(world.service("comm").trace.by_protocol.items())},
            "polls": scada.polls, "reports": scada.reports}


def layer_shares(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    shares: dict[str, float] = {}
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.items():
        layer = next((name for name, part in LAYERS if part in filename.replace("\\", "/")), "other (stdlib, numpy, yaml)")
        shares[layer] = shares.get(layer, 0.0) + own
        total += own
    return {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days-poll", type=float, default=2.0, help="simulated days of the poll and mixed runs")
    parser.add_argument("--days-rbe", type=float, default=60.0, help="simulated days of the rbe runs")
    parser.add_argument("--integrity", type=float, default=3600.0, help="integrity poll period in rbe mode, s")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    parser.add_argument("--modes", nargs="+", default=["poll", "mixed", "rbe"], choices=["poll", "mixed", "rbe"])
    parser.add_argument("--profile", action="store_true", help="also print the share of wall time per layer")
    parser.add_argument("--keep-alive", type=float, default=None, help="MQTT keep-alive of every client, s (0: none)")
    parser.add_argument("--keep-alives", choices=["simulate", "account"], default="simulate",
                        help="comm.keep_alives of every variant (docs/comm.md)")
    args = parser.parse_args()
    if args.keep_alive is not None:
        plain = CommNetwork.mqtt_client

        def with_keep_alive(self: CommNetwork, node_id: str, client_id: str, broker_node: str, **options: Any) -> Any:
            return plain(self, node_id, client_id, broker_node, **{"keep_alive_s": args.keep_alive, **options})

        CommNetwork.mqtt_client = with_keep_alive  # type: ignore[method-assign]
    for name in args.scenarios:
        for mode in args.modes:
            days = args.days_rbe if mode == "rbe" else args.days_poll
            profile = cProfile.Profile() if args.profile else None
            with tempfile.TemporaryDirectory() as tmp:
                result = run(variant(SCENARIOS[name], mode, days, args.integrity, args.keep_alives), Path(tmp), profile)
            messages = ", ".join(f"{k} {v:,.0f}" for k, v in result["messages_per_day"].items())
            accounted = ", ".join(f"{k} {v / result['days']:,.0f}" for k, v in result["accounted"].items())
            print(f"{name:12s} {mode:5s} {result['days']:6.1f} d in {result['wall_s']:7.2f} s wall, "
                  f"{result['cpu_s']:7.2f} s CPU (load {os.getloadavg()[0]:.1f}): "
                  f"{result['years_per_min']:8.3f} simulated years per wall minute, "
                  f"{result['years_per_cpu_min']:8.3f} per CPU minute; messages per day: {messages}; "
                  f"accounted per day: {accounted or 'none'}; "
                  f"SCADA polls {result['polls']:,}, reports {result['reports']:,}", flush=True)
            if profile is not None:
                shares = layer_shares(profile)
                print("    wall time by layer (profiled run): " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))


if __name__ == "__main__":
    main()
