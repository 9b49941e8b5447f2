"""``python -m cosim.grid.threephase``: a feeder's voltages, and bad input as one line with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cosim.grid.threephase import IEEE13

ROOT = Path(__file__).parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cosim.grid.threephase", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_prints_every_node_of_the_feeder_at_the_given_taps() -> None:
    out = run(str(IEEE13), "--tap", "reg1=10", "--tap", "reg2=8", "--tap", "reg3=11")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:-1]]
    assert len(rows) == 41  # the IEEE 13 model's nodes, as OpenDSS counts them
    rg60_a = next(r for r in rows if r[:2] == ["rg60", "1"])
    assert 1.055 < float(rg60_a[3]) < 1.07  # tap +10 of 5/8 % on about 1.0 pu


def test_bad_input_is_one_line_naming_file_and_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dss"
    bad.write_text("Clear\nNew Circuit.c bus1=s\nNew Load.x bus1=s kw=1 colour=red\n")
    out = run(str(bad))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {bad}:3: load.x: unsupported property 'colour'"]
    out = run(str(IEEE13), "--tap", "nope=3")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
