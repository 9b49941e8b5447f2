"""How long and how much memory `cosim validate` needs for a large scenario.

Writes a scenario with N grid loads (flow-style items, about 68 bytes each:
800,000 loads make a 54 MB file) to a temporary folder and runs
``python -m cosim.cli validate`` on it in a child process, printing the file
size, the wall time, the child's CPU time (user + system; the wall time on a
shared machine is longer) and its peak resident memory (ru_maxrss).

    python benchmarks/bench_validate.py --loads 800000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = """name: big
run: {duration: 1h, step: 15min}
actors:
  - {id: dso, domain: Distribution, role: DSO}
grid:
  base_mva: 100
  buses:
    - {name: slack, base_kv: 11}
  generators:
    - {name: g, bus: slack, slack: true}
  loads:
"""


def write_scenario(path: Path, loads: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        out.writelines(f"    - {{name: load_{i:07d}, bus: slack, p_mw: 0.0{i % 97 + 1:03d}, q_mvar: 0.001}}\n" for i in range(loads))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=800_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        write_scenario(path, args.loads)
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "cosim.cli", "validate", str(path)], check=False, capture_output=True, text=True)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = usage.ru_maxrss / 1024
        cpu = usage.ru_utime + usage.ru_stime
    print(f"loads: {args.loads:,}  file: {size_mb:.1f} MB  exit: {proc.returncode}")
    print(f"validate wall time: {wall:.1f} s  CPU time: {cpu:.1f} s  peak RSS: {peak_mb:.0f} MB")
    if proc.returncode != 0:
        print(proc.stderr[-2000:])


if __name__ == "__main__":
    main()
