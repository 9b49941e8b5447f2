"""Only the bench file decides where HIL servers listen; loopback unless the bench says otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.hil.config import HilSettings, is_loopback
from cosim.hil.session import HilSession
from cosim.kernel import World

REPO = Path(__file__).resolve().parents[2]


def test_a_scenario_cannot_choose_the_bind_address(tmp_path: Path, capsys):
    text = (REPO / "configs" / "protection_feeder.yaml").read_text()
    assert "expose: {port: 15020}" in text
    moved = tmp_path / "moved.yaml"
    moved.write_text(text.replace("expose: {port: 15020}", "expose: {port: 15020, host: 0.0.0.0}").replace("case: ", f"case: {REPO}/configs/"))
    assert main(["validate", str(moved)]) == 2
    err = capsys.readouterr().err
    assert "expose.host: unknown field" in err and len(err.strip().splitlines()) == 1


def test_a_bench_binds_beyond_loopback_only_when_it_says_so(tmp_path: Path, capsys):
    bench = tmp_path / "bench.yaml"
    bench.write_text("hil:\n  modbus:\n    host: 0.0.0.0\n")
    assert main(["validate", str(bench)]) == 2
    assert "hil.modbus: host '0.0.0.0' is not loopback" in capsys.readouterr().err
    bench.write_text("hil:\n  modbus:\n    host: 0.0.0.0\n    allow_non_loopback: true\n")
    assert main(["validate", str(bench)]) == 0


def test_loopback_addresses():
    assert all(map(is_loopback, ["127.0.0.1", "127.3.4.5", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.2", "bench-pc"]))


SECTIONS = {"modbus": "", "c37118": "", "dnp3": "", "iec104": "    expose: [rtu]\n", "openadr": "    vtn: csp\n"}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_listener_of_the_bench_keeps_to_loopback_unless_told(tmp_path: Path, capsys, section):
    bench = tmp_path / "bench.yaml"
    bench.write_text(f"hil:\n  {section}:\n    host: 0.0.0.0\n{SECTIONS[section]}")
    assert main(["validate", str(bench)]) == 2
    assert f"hil.{section}: host '0.0.0.0' is not loopback" in capsys.readouterr().err
    bench.write_text(f"hil:\n  {section}:\n    host: 0.0.0.0\n    allow_non_loopback: true\n{SECTIONS[section]}")
    assert main(["validate", str(bench)]) == 0


def test_a_listener_beyond_loopback_is_said_out_loud(tmp_path: Path):
    stream = io.StringIO()
    session = HilSession(World(), HilSettings(), stream)
    session._say_if_reachable("DNP3", "127.0.0.1", 20000, "dnp3")
    assert stream.getvalue() == ""
    session._say_if_reachable("DNP3", "0.0.0.0", 20000, "dnp3")
    assert stream.getvalue() == "hil: DNP3 on 0.0.0.0:20000 is reachable beyond this machine (bench dnp3.host)\n"
