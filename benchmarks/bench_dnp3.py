"""DNP3 through the simulated stack, and the DNP3-vs-Modbus scenario pair.

Part 1 (throughput): ``--outstations`` recloser outstations (each a register
store with its DNP3 view, on its own comm node, 10 ms from the master) and a
master on one node. Two runs through the comm network and SimPy, every
message encoded, framed with CRCs, routed, decoded:

* event polls: each outstation has one fresh binary event before every
  class 1 poll (READ, response with CON, CONFIRM);
* unsolicited reports: each outstation's point changes every 0.1 s simulated
  and is reported unsolicited (and confirmed) at once.

Prints completed polls (reports) per wall second and per CPU second.

Part 3 (``--hil N``): N recloser outstations behind one real TCP port
(cosim.hil.dnp3_tcp, the SimPy thread paced to the wall clock); one client
connection per outstation, written with this package's own codec, sends
integrity polls (class 1230) every ``--period`` seconds (0: back to back, a
saturation test) for ``--seconds`` and prints the request-to-response latency
p50/p99/max over all of them. Client and server share this process (and its
GIL), so the figures include the clients' own work.

Part 2 (the pair, ``--pair``): runs configs/dnp3_vs_modbus/{dnp3,modbus}.yaml
and prints the recloser changes each master learned, the detection latency
(master's time minus the device's action), and messages and bytes per
simulated day (the 2 h runs' counts scaled to 24 h; the traffic is periodic
plus three fault episodes, so the scaling overstates the events' share).

The machine is shared: CPU time (time.process_time) is printed beside wall
time, with the load average.

Run:  python benchmarks/bench_dnp3.py [--outstations 50] [--rounds 200] [--pair] [--hil 100 --seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosim.comm import CommNetwork, Delay  # noqa: E402
from cosim.kernel import World  # noqa: E402
from cosim.operations.dnp3_master import Dnp3MasterSession  # noqa: E402
from devices.protocols.dnp3_endpoint import Dnp3Endpoint, Dnp3Station  # noqa: E402
from devices.protocols.dnp3_outstation import Outstation, OutstationConfig  # noqa: E402
from devices.protocols.dnp3_points import RECLOSER  # noqa: E402
from devices.registermaps import DeviceKind, standard_map  # noqa: E402
from devices.registerstore import RegisterStore  # noqa: E402


def build(count: int, unsolicited: bool) -> tuple[World, CommNetwork, list[Dnp3Station], dict[int, Dnp3MasterSession]]:
    world = World(seed=1)
    network = CommNetwork(world)
    network.add_node("master")
    stations, sessions = [], {}
    for n in range(count):
        node, address = f"os{n}", 10 + n
        network.add_node(node)
        network.add_link("master", node, Delay.fixed(0.01), 1e7)
        store = RegisterStore(standard_map(DeviceKind.RECLOSER))
        outstation = Outstation(RECLOSER, store, lambda: round(world.now * 1000),
                                OutstationConfig(unsolicited=unsolicited, need_time=False, event_buffer=1000))
        outstation.scan()  # the baseline
        station = Dnp3Station(world, outstation, address, 1, 5.0, node)
        Dnp3Endpoint.of(network, node, world.log).add(station)
        stations.append(station)
        sessions[address] = Dnp3MasterSession(1, address)
    return world, network, stations, sessions


def measure(label: str, world: World, until_s: float, count: Any) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    world.run(until_s)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = count()
    print(f"  {label}: {done} in {wall:.2f} s wall / {cpu:.2f} s CPU -> {done / wall:,.0f} per wall s, "
          f"{done / cpu:,.0f} per CPU s")


def event_polls(count: int, rounds: int) -> None:
    world, network, stations, sessions = build(count, unsolicited=False)
    polls = {"done": 0, "events": 0}
    waiting: dict[int, Any] = {}

    def on_message(message: Any) -> None:
        octets = bytes(message.payload)
        session = sessions[int.from_bytes(octets[6:8], "little")]
        for heard in session.receive(octets):
            polls["events"] += len(heard.changes)
            if heard.reply:
                network.send("master", message.src, "dnp3", heard.reply, len(heard.reply))
            event = waiting.pop(session.outstation_address, None)
            if event is not None:
                event.succeed()

    network.attach("master", "dnp3", on_message)

    def poller(station: Dnp3Station, node: str) -> Any:
        session = sessions[station.address]
        for n in range(rounds):
            station.outstation.store.set("closed", n % 2 == 0)
            station.outstation.scan()
            done = world.env.event()
            waiting[station.address] = done
            _, octets = session.event_poll()
            network.send("master", node, "dnp3", octets, len(octets))
            yield done
            polls["done"] += 1

    for n, station in enumerate(stations):
        world.process(poller(station, f"os{n}"))
    measure(f"event polls ({count} outstations x {rounds}, one binary event each)", world, 1e9, lambda: polls["done"])


def unsolicited_reports(count: int, rounds: int) -> None:
    world, network, stations, sessions = build(count, unsolicited=True)
    reports = {"done": 0}

    def on_message(message: Any) -> None:
        octets = bytes(message.payload)
        session = sessions[int.from_bytes(octets[6:8], "little")]
        for heard in session.receive(octets):
            if heard.response.control.unsolicited and heard.response.headers:
                reports["done"] += 1
            if heard.reply:
                network.send("master", message.src, "dnp3", heard.reply, len(heard.reply))

    network.attach("master", "dnp3", on_message)

    def source(station: Dnp3Station, node: str) -> Any:
        session = sessions[station.address]
        _, octets = session.set_unsolicited(True)  # the master enables class 1-3 reporting
        network.send("master", node, "dnp3", octets, len(octets))
        yield world.timeout(1.0)
        for n in range(rounds):
            station.outstation.store.set("closed", n % 2 == 0)
            station.scan()
            yield world.timeout(0.1)

    for n, station in enumerate(stations):
        world.process(source(station, f"os{n}"))
    measure(f"unsolicited reports ({count} outstations x {rounds}, confirmed)", world, 2.0 + rounds * 0.1,
            lambda: reports["done"])


def pair() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        from cosim.cli import main

        for side, protocol in (("dnp3", "dnp3"), ("modbus", "modbus")):
            out = Path(tmp) / side
            wall, cpu = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):  # the run's own summary table
                code = main(["run", str(ROOT / "configs" / "dnp3_vs_modbus" / f"{side}.yaml"), "--out", str(out),
                             "--no-progress"])
            assert code == 0, f"{side} run failed"
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            events = [json.loads(line) for line in (out / "events.jsonl").open()]
            actions = [(e["time_s"], e["closed"]) for e in events
                       if e["kind"] == "device_action" and e["device"] == "feeder_recloser"]
            if side == "dnp3":
                learned = [(e["time_s"], e["value"]) for e in events if e["kind"] == "dnp3_binary_event"
                           and e["outstation"] == "feeder_recloser" and e["index"] == 0]
            else:
                learned = [(e["time_s"], e["value"]) for e in events if e["kind"] == "scada_point_change"
                           and e["device"] == "feeder_recloser" and e["point"] == "closed"]
            delays = [t - max(a for a, closed in actions if closed == value and a <= t) for t, value in learned]
            with (out / "messages.csv").open() as f:
                rows = [r for r in csv.DictReader(f) if r["protocol"] == protocol]
            scale = 86400 / 7200
            print(f"  {side}: learned {len(learned)} of {len(actions)} recloser position changes; detection latency "
                  f"mean {statistics.mean(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms; "
                  f"{len(rows) * scale:,.0f} messages and {sum(int(r['size_bytes']) for r in rows) * scale / 1e6:.2f} MB "
                  f"per simulated day (run: {wall:.1f} s wall / {cpu:.1f} s CPU)")


def hil(count: int, seconds: float, period_s: float) -> None:
    import asyncio
    import threading

    from cosim.comm.dnp3 import split_frames
    from cosim.hil.bridge import IoThread, SimInbox
    from cosim.hil.clock import RealtimeLoop
    from cosim.hil.dnp3_tcp import Dnp3TcpServer

    world, _network, stations, sessions = build(count, unsolicited=False)
    inbox, io = SimInbox(), IoThread().start()
    loop = RealtimeLoop(world.env, inbox)
    server = Dnp3TcpServer({s.address: s for s in stations}, io, inbox, max_connections=count + 1)
    port = server.start()
    sim = threading.Thread(target=loop.run, args=(seconds + 30.0,), daemon=True)
    sim.start()
    latencies: list[float] = []

    async def client(session: Dnp3MasterSession, until: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pending = b""
        while time.perf_counter() < until:
            _, octets = session.integrity_poll()
            sent = time.perf_counter()
            writer.write(octets)
            await writer.drain()
            got = False
            while not got:
                pending += await reader.read(4096)
                frames, pending = split_frames(pending)
                for heard in session.receive(b"".join(frames)):
                    got = got or not heard.response.control.unsolicited
            latencies.append(time.perf_counter() - sent)
            if period_s > 0:
                await asyncio.sleep(max(0.0, sent + period_s - time.perf_counter()))
        writer.close()

    async def all_clients() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(staggered(n, session, until) for n, session in enumerate(sessions.values())))

    async def staggered(n: int, session: Dnp3MasterSession, until: float) -> None:
        await asyncio.sleep(period_s * n / count)  # spread the clients over one period
        await client(session, until)

    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(all_clients())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loop.stop()
    server.stop()
    io.stop()
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    pacing = f"every {period_s:g} s each" if period_s > 0 else "back to back"
    print(f"  HIL: {count} outstations on one TCP port, polled {pacing}: {len(latencies)} integrity polls in {wall:.1f} s wall / "
          f"{cpu:.1f} s CPU ({len(latencies) / wall:,.0f} per s): latency p50 {pick(0.5):.1f} ms, "
          f"p99 {pick(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outstations", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pair", action="store_true", help="also run the DNP3-vs-Modbus scenario pair")
    parser.add_argument("--hil", type=int, default=0, metavar="N", help="also serve N outstations on real TCP")
    parser.add_argument("--seconds", type=float, default=10.0, help="wall seconds of polling for --hil")
    parser.add_argument("--period", type=float, default=1.0, help="--hil: seconds between one client's polls (0: back to back)")
    parser.add_argument("--skip-stack", action="store_true", help="skip part 1")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, {os.cpu_count()} CPUs")
    if not args.skip_stack:
        event_polls(args.outstations, args.rounds)
        unsolicited_reports(args.outstations, args.rounds)
    if args.pair:
        pair()
    if args.hil:
        hil(args.hil, args.seconds, args.period)
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
