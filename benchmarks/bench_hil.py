"""Figures of hardware in the loop (printed; never asserted in tests).

1. Modbus TCP requests per second served for 50 exposed devices (smart-meter
   register stores on one gateway port, one unit id each, each refreshed from
   the grid every 100 ms simulated), with p50/p99 response latency seen by the
   clients: asyncio clients in a separate process over N connections on
   loopback, a fixed number of requests each (read 10 input registers of a
   random unit), one request in flight per connection.
2. Real-time lag (``hil/lag_s``: wall seconds behind schedule, sampled every
   100 ms simulated) at factor 1 with those 50 devices, idle and under the
   Modbus load of (1).

Run:  python benchmarks/bench_hil.py [--devices 50] [--connections 8] [--requests 2500] [--idle-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hil"))

from hiltools import ServedWorld, bench_meter, settings  # noqa: E402


async def _client(port: int, units: int, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies = []
    for tid in range(1, count + 1):
        unit = rng.randrange(1, units + 1)
        frame = struct.pack(">HHHBBHH", tid, 0, 6, unit, 4, 0, 10)
        started = time.perf_counter()
        writer.write(frame)
        header = await reader.readexactly(6)
        body = await reader.readexactly(struct.unpack(">H", header[4:6])[0])
        latencies.append(time.perf_counter() - started)
        assert body[1] == 4, body.hex()  # a normal read response
    writer.close()
    return latencies


def client_load(port: int, units: int, connections: int, count: int, results: "multiprocessing.Queue[object]") -> None:
    async def main() -> tuple[float, list[float]]:
        started = time.perf_counter()
        parts = await asyncio.gather(*(_client(port, units, count, seed) for seed in range(connections)))
        return time.perf_counter() - started, [x for part in parts for x in part]

    results.put(asyncio.run(main()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def lag_summary(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 0.5) * 1e3:.2f} ms, p99 {percentile(samples, 0.99) * 1e3:.2f} ms, "
            f"max {max(samples) * 1e3:.2f} ms ({len(samples)} samples)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2500, help="per connection")
    parser.add_argument("--idle-s", type=float, default=10.0, help="wall seconds served without load first")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        served = ServedWorld(Path(folder), settings(monitor_step=0.1), duration_s=3600.0)
        buses = ["f1", "f2", "f3", "dx_mv"]
        for index in range(args.devices):
            store = bench_meter(served.world, bus=buses[index % len(buses)], period_s=0.1)
            served.session.expose(f"meter_{index:03d}", "smart_meter", store)
        with served:
            port = served.port_of("meter_000")
            time.sleep(args.idle_s)
            samples = getattr(served.session.loop, "lag_samples")
            idle = list(samples)
            spawn = multiprocessing.get_context("spawn")
            results: multiprocessing.Queue[object] = spawn.Queue()
            load = spawn.Process(
                target=client_load, args=(port, args.devices, args.connections, args.requests, results))
            mark = len(samples)
            load.start()
            wall, latencies = results.get(timeout=600)  # type: ignore[misc]
            load.join()
            loaded = list(samples[mark:])
    total = len(latencies)
    print(f"{args.devices} exposed devices on one gateway port, refreshed every 100 ms simulated, factor 1")
    print(f"lag idle ({args.idle_s:g} s):     {lag_summary(idle)}")
    print(f"Modbus load: {args.connections} connections x {args.requests} requests (read 10 input registers)")
    print(f"  {total} requests in {wall:.2f} s = {total / wall:,.0f} requests/s")
    print(f"  latency p50 {percentile(latencies, 0.5) * 1e3:.3f} ms, p99 {percentile(latencies, 0.99) * 1e3:.3f} ms, "
          f"mean {statistics.fmean(latencies) * 1e3:.3f} ms")
    print(f"lag under load:      {lag_summary(loaded)}")


if __name__ == "__main__":
    main()
