"""Figures of the device layer (printed; never asserted in tests).

1. configs/protection_feeder.yaml, 4 simulated hours with its three fault
   stories: wall time and device wakes.
2. Individually emulated smart meters (one process each, 60 s samples,
   15-minute MQTT interval reports): wall time per simulated day.
3. A meter_population of N meters (one process, numpy arrays) reporting
   15-minute data through collectors over an AMI mesh and MQTT: wall time per
   simulated day.

Run:  python benchmarks/bench_devices.py [--meters 200] [--population 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosim.runner import build_world  # noqa: E402
from cosim.scenario import load_scenario  # noqa: E402

GRID = """
grid:
  base_mva: 100
  frequency_hz: 50
  buses: [{name: src, base_kv: 33}, {name: mv, base_kv: 11}]
  generators: [{name: source, bus: src, slack: true}]
  transformers: [{name: tx, hv_bus: src, lv_bus: mv, sn_mva: 40, vk_percent: 10}]
  loads:
{loads}
"""


def timed(path: Path, hours: float) -> tuple[float, object]:
    scenario = load_scenario(path)
    world, _ = build_world(scenario, None)
    started = time.perf_counter()
    world.run(hours * 3600.0)
    return time.perf_counter() - started, world


def protection_feeder() -> None:
    wall, world = timed(ROOT / "configs" / "protection_feeder.yaml", 4.0)
    layer = world.service("devices")  # type: ignore[attr-defined]
    wakes = sum(getattr(d, "wakes", 0) for d in layer.devices.values())
    print(f"protection_feeder, 4 h simulated: {wall:.2f} s wall, {len(layer)} devices, {wakes} device wakes, "
          f"{world.service('grid').solve_count} power-flow solves")  # type: ignore[attr-defined]


def individual_meters(count: int, folder: Path) -> None:
    loads = "\n".join(f"    - {{name: l{i}, bus: mv, p_mw: 0.002}}" for i in range(count))
    devices = "\n".join(f"  - {{id: m{i}, kind: smart_meter, node: n{i}, load: l{i}, "
                        f"params: {{sample_period_s: 60, mqtt: {{broker: headend, qos: 0}}}}}}" for i in range(count))
    text = ("name: bench_meters\nrun: {duration: 1d, step: 15min}\n"
            "actors: [{id: u, domain: Distribution, role: utility}]\n" + GRID.replace("{loads}", loads)
            + "comm:\n  trace: false\n  nodes: [{id: headend}, {id: collector}]\n"
            + "  node_groups:\n    - {id_format: 'n{index}', count: " + str(count)
            + ", link_to: [collector], link: {profile: lan}}\n"
            + "  links: [{a: headend, b: collector, profile: fibre_wan}]\n  mqtt: {brokers: [{node: headend}]}\n"
            + "devices:\n" + devices + "\n")
    path = folder / "meters.yaml"
    path.write_text(text)
    wall, _ = timed(path, 24.0)
    print(f"{count} individual smart meters, 1 simulated day (60 s samples, 96 MQTT reports each): {wall:.2f} s wall")


def population(count: int, folder: Path) -> None:
    loads = "\n".join(f"    - {{name: l{i}, bus: mv, p_mw: 0.5, customers: {count // 20}}}" for i in range(20))
    text = ("name: bench_population\nrun: {duration: 1d, step: 15min}\n"
            "actors: [{id: u, domain: Distribution, role: utility}]\n" + GRID.replace("{loads}", loads)
            + "comm:\n  trace: false\n  nodes: [{id: headend}, {id: c0}, {id: c1}, {id: c2}, {id: c3}]\n"
            + "  node_groups:\n    - {id_format: 'meter{index:05d}', count: " + str(count)
            + ", link_to: [c0, c1, c2, c3], link: {profile: ami_rf_mesh}}\n"
            + "  links:\n" + "".join(f"    - {{a: headend, b: c{i}, profile: lte}}\n" for i in range(4))
            + "  mqtt: {brokers: [{node: headend}]}\n"
            + "devices:\n  - {id: ami, kind: meter_population, params: {node_group: 'meter{index:05d}', "
            + "loads: [" + ", ".join(f"l{i}" for i in range(20)) + "], mqtt: {broker: headend}}}\n")
    path = folder / "population.yaml"
    path.write_text(text)
    wall, world = timed(path, 24.0)
    ami = world.service("devices")["ami"]  # type: ignore[attr-defined]
    print(f"meter_population of {count} meters, 1 simulated day: {wall:.2f} s wall, "
          f"{ami.reports_sent} reports on the mesh, {ami.batches_published} MQTT batches")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--population", type=int, default=10000)
    args = parser.parse_args()
    protection_feeder()
    with tempfile.TemporaryDirectory() as folder:
        individual_meters(args.meters, Path(folder))
        population(args.population, Path(folder))


if __name__ == "__main__":
    main()
