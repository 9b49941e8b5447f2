"""Kernel overhead: events per second through cosim's World against bare SimPy, same machine, same run.

Workload: N processes, each waiting a random period and recording one sample
per wake-up (the shape of a population of meters). Measured three ways:

* bare SimPy: ``env.timeout`` and an ``append`` to a list,
* World, recorder statistics only (``out_dir=None``) with progress checkpoints,
* World streaming every sample to CSV on disk.

Prints events per second and the ratio to bare SimPy.
Usage: python benchmarks/bench_kernel.py [--processes 1000] [--until 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import simpy

from cosim.kernel import World


def bare(processes: int, until: float) -> tuple[int, float]:
    env = simpy.Environment()
    samples: list[tuple[float, int, float]] = []

    def meter(index: int, period: float):
        while True:
            yield env.timeout(period)
            samples.append((env.now, index, 1.0))

    for i in range(processes):
        env.process(meter(i, 10.0 + i % 7))
    start = time.perf_counter()
    env.run(until=until)
    return len(samples), time.perf_counter() - start


def with_world(processes: int, until: float, out_dir: Path | None) -> tuple[int, float]:
    world = World(seed=1, out_dir=out_dir)
    names = [f"meter/{i}" for i in range(processes)]

    def meter(index: int, period: float):
        while True:
            yield world.timeout(period)
            world.record(names[index], "p", 1.0, "kW")

    for i in range(processes):
        world.process(meter(i, 10.0 + i % 7))
    start = time.perf_counter()
    world.run(until, progress=lambda now, end: None)
    elapsed = time.perf_counter() - start
    count = sum(s.count for s in world.recorder.stats.values())
    world.recorder.close()
    return count, elapsed


def best_of(repeats: int, fn, *args) -> tuple[int, float]:
    results = [fn(*args) for _ in range(repeats)]
    return min(results, key=lambda r: r[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--until", type=float, default=20000.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_bare, t_bare = best_of(args.repeats, bare, args.processes, args.until)
    n_mem, t_mem = best_of(args.repeats, with_world, args.processes, args.until, None)
    with tempfile.TemporaryDirectory() as tmp:
        n_disk, t_disk = best_of(args.repeats, with_world, args.processes, args.until, Path(tmp) / "run")
    rate_bare = n_bare / t_bare
    print(f"processes={args.processes} until={args.until:g}s events={n_bare} (best of {args.repeats})")
    print(f"bare SimPy                 : {rate_bare:12,.0f} events/s")
    for label, n, t in (("World, stats only", n_mem, t_mem), ("World, streaming to CSV", n_disk, t_disk)):
        rate = n / t
        print(f"{label:27s}: {rate:12,.0f} events/s   ratio to bare SimPy {rate / rate_bare:.2f}")


if __name__ == "__main__":
    main()
