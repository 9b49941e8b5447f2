"""Real time at scale: N served devices, each polled at 1 Hz by an external Modbus TCP master (printed, never asserted).

The served side is the quickstart world plus N smart meters (the device
layer's own ``smart_meter``, sampling every ``--sample-s`` simulated seconds,
a register store each), served by ``cosim serve``'s HilSession at factor 1.
Modbus unit ids stop at 247, so each device has its own TCP port, as N real
meters would have N addresses. The master is a separate process: one
connection per device, a read of 10 input registers every second, the
devices' poll instants spread evenly over the second (as a SCADA front end
spreads its scan). Printed: request latency p50/p99 seen by the master, the
served run's lag (``hil/lag_s``: wall seconds behind schedule, sampled every
100 ms simulated) p50/p99, and the same master against a bare pymodbus
server process (N ``ModbusTcpServer`` on one asyncio loop, one port and one
device context each) for reference. CPU time of each process and the load
average are printed beside wall time: the machine may be shared.

Run:  python benchmarks/bench_hil_scale.py [--devices 500] [--seconds 30] [--sample-s 1]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "hil"))

from hiltools import ServedWorld, settings  # noqa: E402

FIRST_PORT_PROBE = ("127.0.0.1", 0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def figures(name: str, values: list[float]) -> str:
    return (f"{name} p50 {percentile(values, 0.5) * 1e3:.2f} ms, p99 {percentile(values, 0.99) * 1e3:.2f} ms, "
            f"max {max(values) * 1e3:.2f} ms ({len(values)} samples)")


# -- the external master (its own process) ---------------------------------------------------
async def _poll_one(port: int, unit: int, phase_s: float, start: float, seconds: float, out: list[float],
                    errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    tid = 0
    next_at = start + phase_s
    while next_at < start + seconds:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        tid = tid % 0xFFFF + 1
        frame = struct.pack(">HHHBBHH", tid, 0, 6, unit, 4, 0, 10)
        sent = time.perf_counter()
        writer.write(frame)
        header = await reader.readexactly(6)
        body = await reader.readexactly(struct.unpack(">H", header[4:6])[0])
        out.append(time.perf_counter() - sent)
        if body[1] != 4:
            errors.append(body[2])
        next_at += 1.0
    writer.close()


def master(ports: list[int], unit: int, seconds: float, results: "multiprocessing.Queue[Any]") -> None:
    async def main() -> tuple[list[float], list[int]]:
        out: list[float] = []
        errors: list[int] = []
        start = time.perf_counter() + 1.0  # connections first
        count = len(ports)
        await asyncio.gather(*(_poll_one(port, unit, index / count, start, seconds, out, errors)
                               for index, port in enumerate(ports)))
        return out, errors

    started = time.process_time()
    out, errors = asyncio.run(main())
    results.put((out, errors, time.process_time() - started))


def run_master(ports: list[int], unit: int, seconds: float) -> tuple[list[float], list[int], float]:
    spawn = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Any] = spawn.Queue()
    process = spawn.Process(target=master, args=(ports, unit, seconds, results))
    process.start()
    latencies, errors, cpu = results.get(timeout=seconds + 300)
    process.join()
    return latencies, errors, cpu


# -- the bare pymodbus reference (its own process) ------------------------------------------------
def bare_pymodbus(count: int, seconds: float, ready: "multiprocessing.Queue[Any]") -> None:
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
    from pymodbus.server import ModbusTcpServer

    async def main() -> None:
        servers = []
        for _ in range(count):
            context = ModbusServerContext(devices=ModbusDeviceContext(ir=ModbusSequentialDataBlock(1, [0] * 100)),
                                          single=True)
            server = ModbusTcpServer(context, address=("127.0.0.1", 0))
            servers.append(server)
            asyncio.ensure_future(server.serve_forever())
        ports: list[int] = []
        for server in servers:
            while server.transport is None:
                await asyncio.sleep(0.01)
            listener: Any = server.transport  # an asyncio Server once listening
            ports.append(listener.sockets[0].getsockname()[1])
        ready.put(ports)
        await asyncio.sleep(seconds + 30)
        for server in servers:
            await server.shutdown()

    started = time.process_time()
    try:
        asyncio.run(main())
    finally:
        ready.put(time.process_time() - started)


def measure_bare(count: int, seconds: float) -> tuple[list[float], list[int], float, float]:
    spawn = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[Any] = spawn.Queue()
    process = spawn.Process(target=bare_pymodbus, args=(count, seconds, ready))
    process.start()
    ports = ready.get(timeout=120)
    latencies, errors, master_cpu = run_master(ports, 1, seconds)
    process.terminate()
    process.join()
    return latencies, errors, master_cpu, float("nan")


# -- the served simulation ------------------------------------------------------------------------
def scale_scenario(folder: Path, devices: int, sample_s: float) -> Path:
    """The quickstart plus ``devices`` smart meters on its loads, each served (expose) on its own port."""
    text = (ROOT / "configs" / "quickstart.yaml").read_text()
    loads = ["home_1", "office_1", "factory_1"]
    lines = [f"  - {{id: scale_meter_{i:03d}, kind: smart_meter, load: {loads[i % len(loads)]}, unit_id: 1,"
             f" params: {{sample_period_s: {sample_s}}}, expose: {{port: {20000 + i}}}}}" for i in range(devices)]
    marker = "\nevents:"
    path = folder / "scale.yaml"
    path.write_text(text.replace(marker, "\n" + "\n".join(lines) + "\n" + marker, 1))
    return path


def work_per_instant(devices: int, sample_s: float, spread: bool, seconds: float = 20.0) -> list[float]:
    """CPU seconds the simulation spends at each simulated instant (a batch run; not paced, so not loaded by waiting).

    The lag a served run shows at an instant is at least this work: the wall
    clock cannot be caught up while the SimPy thread works through one instant.
    CPU time, not wall time, so other jobs on the machine do not inflate it.
    """
    from cosim.runner import build_world
    from cosim.scenario.loader import load_scenario

    with tempfile.TemporaryDirectory() as name:
        scenario = load_scenario(scale_scenario(Path(name), devices, sample_s)).with_run(duration=3600.0)
        world, _ = build_world(scenario, None)
    world.service("devices").spread_sample_phases = spread
    env = world.env
    env.run(until=5.0)
    work: dict[float, float] = {}
    while env.peek() < 5.0 + seconds:
        now = env.peek()
        started = time.process_time()
        env.step()
        work[now] = work.get(now, 0.0) + time.process_time() - started
    return list(work.values())


def measure_served(devices: int, seconds: float, sample_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        served = ServedWorld(folder / "out", settings(monitor_step=0.1), duration_s=3600.0,
                             scenario_path=scale_scenario(folder, devices, sample_s))
        served.session.expose_devices()
        # the entries name fixed ports; the benchmark takes free ones
        served.session.exposures = [dataclasses.replace(e, port=0 if e.port else None)
                                    for e in served.session.exposures]
        with served:
            ports = [e.port for e in sorted(served.session.endpoints, key=lambda e: e.device_id)
                     if e.device_id.startswith("scale_meter_")]
            while not hasattr(served.session.loop, "lag_samples"):  # set when the monitor first runs
                time.sleep(0.05)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            samples = getattr(served.session.loop, "lag_samples")
            mark = len(samples)
            latencies, errors, master_cpu = run_master(ports, 1, seconds)
            lag = list(samples[mark:])
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            meters = [d for i, d in served.world.service("devices").devices.items() if i.startswith("scale_meter_")]
            sampled = sum(d.samples for d in meters)
    return {"latencies": latencies, "errors": errors, "lag": lag, "cpu": cpu, "wall": wall, "master_cpu": master_cpu,
            "samples": sampled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0, help="wall seconds of polling")
    parser.add_argument("--sample-s", type=float, default=1.0, help="the meters' sample_period_s (simulated)")
    parser.add_argument("--skip-bare", action="store_true", help="do not measure the bare pymodbus reference")
    args = parser.parse_args()

    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for spread in (False, True):
        work = work_per_instant(args.devices, args.sample_s, spread)
        label = "spread over the period (served runs)" if spread else "aligned (batch runs)"
        print(f"work per simulated instant, samples {label}: max {max(work) * 1e3:.2f} ms CPU, "
              f"p99 {percentile(work, 0.99) * 1e3:.2f} ms, {len(work)} instants in 20 s simulated")
    served = measure_served(args.devices, args.seconds, args.sample_s)
    print(f"served simulation: {args.devices} smart meters (sample_period_s {args.sample_s:g}), one port each, "
          f"polled at 1 Hz for {args.seconds:g} s, factor 1")
    print("  " + figures("request latency", served["latencies"]))
    print("  " + figures("lag (hil/lag_s)", served["lag"]))
    print(f"  exception answers: {len(served['errors'])}; meter samples taken: {served['samples']}")
    print(f"  simulation process CPU {served['cpu']:.1f} s over {served['wall']:.1f} s wall "
          f"({100 * served['cpu'] / served['wall']:.0f} % of a core); master CPU {served['master_cpu']:.1f} s")
    print(f"load average after served run: {os.getloadavg()[0]:.2f}")
    if not args.skip_bare:
        latencies, errors, master_cpu, _ = measure_bare(args.devices, args.seconds)
        print(f"bare pymodbus: {args.devices} ModbusTcpServer on one asyncio loop, same master")
        print("  " + figures("request latency", latencies))
        print(f"  exception answers: {len(errors)}; master CPU {master_cpu:.1f} s")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
