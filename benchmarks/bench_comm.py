"""Figures of the communication layer (printed; never asserted in tests).

1. Messages per second delivered end to end over one simulated link (request
   and reply, trace written to disk), as a ratio of bare SimPy Store
   ping-pong measured in the same run.
2. Wall time of one simulated day of 10,000 meters reporting 15-minute data
   over an AMI RF mesh: meter -> collector -> head-end, every report a traced
   message. The meters are one numpy-backed population process.

Run:  python benchmarks/bench_comm.py [--meters 10000] [--hours 24] [--messages 200000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cosim.comm import LINK_PROFILES, CommNetwork, Delay  # noqa: E402
from cosim.kernel import World  # noqa: E402


def bare_simpy_pingpong(n: int) -> float:
    """Messages per wall second for two processes bouncing a message through two Stores."""
    env = simpy.Environment()
    there, back = simpy.Store(env), simpy.Store(env)

    def ping():
        for i in range(n):
            yield there.put(i)
            yield back.get()

    def pong():
        while True:
            message = yield there.get()
            yield back.put(message)

    env.process(ping())
    env.process(pong())
    start = time.perf_counter()
    env.run()
    return 2 * n / (time.perf_counter() - start)


def comm_pingpong(n: int, out_dir: Path) -> float:
    """Messages per wall second delivered over one LAN link, each reply sent by the receiver's handler."""
    world = World(seed=1, out_dir=out_dir)
    network = CommNetwork(world)
    network.add_node("a"), network.add_node("b")
    profile = LINK_PROFILES["lan"]
    network.add_link("a", "b", Delay.fixed(0.0002), profile.bandwidth_bps, overhead_bytes=58)
    env = world.env
    waiting: list[simpy.Event] = []
    network.attach("b", "bench", lambda m: network.send("b", "a", "bench", m.payload, 64))
    network.attach("a", "bench", lambda m: waiting.pop().succeed(m.payload))

    def ping():
        for i in range(n):
            event = env.event()
            waiting.append(event)
            network.send("a", "b", "bench", b"ping", 64)
            yield event

    world.process(ping())
    start = time.perf_counter()
    env.run()
    rate = 2 * n / (time.perf_counter() - start)
    assert network.statistics().delivered == 2 * n
    world.recorder.close()
    return rate


def modbus_polls(n: int, out_dir: Path) -> float:
    """Modbus read-holding-registers polls per wall second: encode, link, server, bank, link, decode."""
    from cosim.comm import ArrayRegisterBank

    world = World(seed=3, out_dir=out_dir)
    network = CommNetwork(world)
    network.add_node("scada"), network.add_node("rtu")
    lan = LINK_PROFILES["lan"]
    network.add_link("scada", "rtu", lan.latency, lan.bandwidth_bps, overhead_bytes=lan.overhead_bytes)
    network.modbus_server("rtu").add_unit(1, ArrayRegisterBank(holding_registers=100))
    master = network.modbus_client("scada", "rtu")

    def poll():
        for _ in range(n):
            yield from master.read_holding_registers(1, 0, 10)

    world.process(poll())
    start = time.perf_counter()
    world.env.run()
    rate = n / (time.perf_counter() - start)
    world.recorder.close()
    return rate


def ami_day(meters: int, hours: float, out_dir: Path, per_collector: int = 500) -> dict[str, float]:
    """One simulated period of ``meters`` reporting every 15 minutes through collectors to a head-end."""
    t0 = time.perf_counter()
    world = World(seed=2, out_dir=out_dir)
    network = CommNetwork(world)
    mesh, lte = LINK_PROFILES["ami_rf_mesh"], LINK_PROFILES["lte"]
    network.add_node("headend", actor="service_provider/ami_headend")
    collectors = (meters + per_collector - 1) // per_collector
    for c in range(collectors):
        cid = f"collector{c:03d}"
        network.add_node(cid)
        network.add_link(cid, "headend", lte.latency, lte.bandwidth_bps, jitter_s=lte.jitter_s, loss=lte.loss,
                         overhead_bytes=lte.overhead_bytes, profile="lte")
    ids = [f"meter{i:05d}" for i in range(meters)]
    for i, mid in enumerate(ids):
        network.add_node(mid, actor="customer/premises")
        network.add_link(mid, f"collector{i // per_collector:03d}", mesh.latency, mesh.bandwidth_bps,
                         jitter_s=mesh.jitter_s, loss=mesh.loss, overhead_bytes=mesh.overhead_bytes,
                         profile="ami_rf_mesh")
    received = [0]

    def headend(message) -> None:
        received[0] += 1

    network.attach("headend", "ami", headend)
    build_s = time.perf_counter() - t0
    rng = world.rng("customer/meters/population")
    interval_s = 900.0
    env = world.env

    def population():
        """All meters as arrays: each interval, every meter reports once at a random offset (300 s window)."""
        load_kw = rng.uniform(0.2, 3.0, meters)
        while True:
            start = env.now
            offsets = rng.uniform(0.0, 300.0, meters)
            order = np.argsort(offsets, kind="stable")
            load_kw = np.clip(load_kw + rng.normal(0.0, 0.1, meters), 0.0, None)
            times = (start + offsets[order]).tolist()
            energy = (load_kw[order] * 0.25).tolist()
            send = network.send
            for k, meter in enumerate(order.tolist()):
                delay = times[k] - env.now
                if delay > 0:
                    yield env.timeout(delay)
                # ~ ANSI C12.19 / DLMS interval record: header + timestamp + 4 channels: about 96 bytes.
                send(ids[meter], "headend", "ami", None, 96, kind="interval_data", info=f"{energy[k]:.3f}")
            yield env.timeout(start + interval_s - env.now)

    world.process(population())
    t1 = time.perf_counter()
    world.run(hours * 3600.0)
    run_s = time.perf_counter() - t1
    stats = network.finish()
    world.recorder.close()
    sent = stats.delivered + sum(stats.dropped.values())
    mesh_links = [s for name, s in stats.links.items() if name.startswith("meter")]
    return {"build_s": build_s, "run_s": run_s, "total_s": time.perf_counter() - t0, "reports": sent,
            "delivered": received[0], "lost": sum(stats.dropped.values()),
            "mesh_p50_s": float(np.nanmedian([s.latency_p50_s for s in mesh_links])),
            "trace_mb": (out_dir / "messages.csv").stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000, help="round trips for figure 1")
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = max(bare_simpy_pingpong(args.messages) for _ in range(3))
        ours = max(comm_pingpong(args.messages, Path(tmp) / f"pp{i}") for i in range(3))
        print(f"figure 1: bare SimPy Store ping-pong   {bare:12,.0f} msg/s")
        print(f"          comm one-link ping-pong      {ours:12,.0f} msg/s (trace on disk)")
        print(f"          ratio comm / bare            {ours / bare:12.2f}")
        polls = modbus_polls(args.messages // 4, Path(tmp) / "modbus")
        print(f"          Modbus polls (FC3, 10 registers, pymodbus codec, traced) {polls:,.0f} polls/s")
        day = ami_day(args.meters, args.hours, Path(tmp) / "ami")
        print(f"figure 2: {args.meters} meters x 15-min reports x {args.hours} h over AMI mesh -> collector -> head-end")
        print(f"          reports {day['reports']:,}  delivered {day['delivered']:,}  lost {day['lost']:,}"
              f"  mesh-hop p50 {day['mesh_p50_s']:.3f} s  trace {day['trace_mb']:.0f} MB")
        print(f"          build {day['build_s']:.1f} s + run {day['run_s']:.1f} s = {day['total_s']:.1f} s wall")


if __name__ == "__main__":
    main()
