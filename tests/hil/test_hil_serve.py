"""`cosim serve` end to end: a subprocess stopped with SIGINT keeps its results; lag is never silent."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.hil.config import load_hil_file

from hiltools import QUICKSTART, ROOT, ServedWorld, settings, wait_until


def test_the_bench_file_loads():
    bench = load_hil_file(ROOT / "configs" / "hil_bench.yaml")
    assert bench.modbus.host == "127.0.0.1" and not bench.modbus.allow_protection_writes


def _lag_rows(out: Path) -> int:
    try:
        text = (out / "timeseries.csv").read_text()
    except OSError:
        return 0
    return sum(1 for row in text.splitlines() if row.split(",")[1:3] == ["hil", "lag_s"])


def test_sigint_stops_serve_and_flushes_results(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "cosim.cli", "serve", str(QUICKSTART), "--out", str(out), "--modbus-port", "0",
               "--hil", str(ROOT / "configs" / "hil_bench.yaml")]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        assert any("Ctrl-C" in line for line in lines), lines
        # Interrupt once the run has recorded lag samples past 0.3 s (they are flushed each wall second),
        # not after a fixed sleep that a loaded machine may not honour.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _lag_rows(out) < 5:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, "".join(lines) + rest
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["mode"] == "realtime"
    assert 0.3 < manifest["simulated_time_s"] < 30
    assert {"events.jsonl", "timeseries.csv", "summary.csv", "scenario.yaml", "hil_endpoints.csv"} <= set(manifest["files"])
    lag_rows = [row for row in (out / "timeseries.csv").read_text().splitlines() if row.split(",")[1:3] == ["hil", "lag_s"]]
    assert len(lag_rows) >= 3
    assert manifest["hil_lag"]["samples"] == len(lag_rows)


def test_a_slow_step_is_reported_as_lag(tmp_path):
    served = ServedWorld(tmp_path, settings(lag_warn_s=0.1))
    world = served.world
    served.session.stream = io.StringIO()  # the monitor's lines, readable while the run goes on
    after_hog: list[int] = []

    def hog():
        yield world.timeout(0.2)
        time.sleep(0.4)  # a step that takes 0.4 s of wall time
        after_hog.append(len(served.session.stream.getvalue()))

    def recovered_after_hog() -> bool:
        return bool(after_hog) and "caught up" in served.session.stream.getvalue()[after_hog[0]:]

    world.process(hog())
    with served:
        # Wait for the behaviour, not a fixed wall time: on a loaded machine the run starts and
        # catches up later, and other (load-made) lag episodes may come and go around the hog's.
        assert wait_until(recovered_after_hog, 60.0)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "hil_lag" and e["lag_s"] > 0.1 for e in events)
    assert any(e["kind"] == "hil_lag_recovered" for e in events)  # non-strict: it catches up
    assert "behind the wall clock" in served.session.stream.getvalue()
    assert served.session.lag_statistics()["max_s"] > 0.3  # the 0.4 s step, whatever else the machine did


def test_a_bench_that_cannot_be_served_is_bad_input(tmp_path, capsys):
    bench = tmp_path / "bench.yaml"
    bench.write_text("hil:\n  modbus: {expose: [no_such_device], gateway_port: 0}\n")
    assert main(["serve", str(QUICKSTART), "--hil", str(bench), "--out", str(tmp_path / "r")]) == 2
    assert "no_such_device" in capsys.readouterr().err
    bench.write_text("hil:\n  modbus: {gateway_port: 70000}\n  mqtt: {password: x}\n")
    assert main(["serve", str(QUICKSTART), "--hil", str(bench)]) == 2
    err = capsys.readouterr().err
    assert "gateway_port" in err and "password without username" in err


@pytest.mark.parametrize("factor", [4.0])
def test_factor_paces_simulated_time(tmp_path, factor):
    served = ServedWorld(tmp_path, settings(factor=factor))
    with served:
        time.sleep(1.0)
    assert 0.7 * factor < served.world.now < 1.5 * factor


def test_serve_refuses_to_write_over_an_earlier_run_unless_overwrite(tmp_path, capsys):
    """As `cosim run`: a bench session into a folder holding an earlier run's results is refused (exit 2,
    one line, nothing touched), so an afternoon's recording is not mixed with the next one's."""
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    bench = tmp_path / "bench.yaml"
    bench.write_text("hil:\n  modbus: {gateway_port: 0}\n")
    assert main(["serve", str(QUICKSTART), "--hil", str(bench), "--out", str(out), "--until", "1s"]) == 2
    assert "is not empty; give --overwrite" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["manifest.json"] and (out / "manifest.json").read_text() == "{}"
