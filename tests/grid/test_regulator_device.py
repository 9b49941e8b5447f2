"""The step-voltage regulator device on the IEEE 13 node feeder, against OpenDSS's RegControl.

Three ``voltage_regulator`` devices hold the feeder's published control
settings (band centre 122 V, bandwidth 2 V, PT 20, CT 700 A, LDC R 3 V,
X 9 V; OpenDSS's default 15 s delay and 2 s between further taps) and drive
the regulator taps in simulated time through ``SetTap``. From each start the
taps they rest at must be the taps OpenDSS's own RegControl settles on from
the same start in the same file; the published solution's taps (+10, +8,
+11) must be held as they are. The time of each tap change follows the
delays.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from opendss_reference import opendss_solve

from cosim.comm.modbus.datamodel import ModbusError, ModbusTable
from cosim.grid.threephase import IEEE13
from cosim.runner import build_world, run_scenario
from cosim.scenario import load_scenario
from devices.regulatorcontrol import RegulatorController, RegulatorMode, RegulatorSettings

STEP = 0.00625
REGS = ("reg1", "reg2", "reg3")
SETTINGS = ("band_centre_v: 122, bandwidth_v: 2, time_delay_s: 15, tap_delay_s: 2, ldc_r_v: 3, ldc_x_v: 9, "
            "pt_ratio: 20, ct_primary_a: 700")


def scenario_from(tmp_path: Path, start: tuple[int, ...], duration: str = "10min", mode: str = "auto") -> Path:
    """A scenario over IEEE 13 with the regulators at ``start`` and one control device each."""
    taps = "\n".join(f"Transformer.{r}.Taps=[1.0 {1 + STEP * n!r}]" for r, n in zip(REGS, start))
    (tmp_path / "start.dss").write_text(f'Redirect "{IEEE13}"\n{taps}\n')
    devices = "\n".join(
        f"  - {{id: {r}_control, kind: voltage_regulator, actor: dx, branch: {r}, bus: rg60.{k}, "
        f"params: {{control_mode: {mode}, {SETTINGS}}}}}" for k, r in enumerate(REGS, start=1))
    path = tmp_path / "regulators.yaml"
    path.write_text(f"""name: regulators
run: {{duration: {duration}, step: 1min}}
actors:
  - {{id: dx, domain: Distribution, role: DSO, elements: [branch/reg1, branch/reg2, branch/reg3]}}
grid: {{model: unbalanced, dss: start.dss}}
devices:
{devices}
""")
    return path


def device_taps_from(tmp_path: Path, start: tuple[int, ...]) -> dict[str, int]:
    world, _ = build_world(load_scenario(scenario_from(tmp_path, start)), None)
    world.run(600.0)
    m = world.service("grid").measurements()
    return {r: round((m.tap_ratio(r) - 1) / STEP) for r in REGS}


def write_register(device: Any, name: str, raw: int) -> None:
    """A master's write of one holding register, by the device's own map (as over Modbus)."""
    point = device.store.register_map.point(name)
    device.store.write(ModbusTable.HOLDING_REGISTERS, point.address, [raw])


def opendss_settles_from(start: tuple[int, ...]) -> dict[str, int]:
    ref = opendss_solve(IEEE13, tuple(f"Transformer.{r}.Taps=[1.0 {1 + STEP * n}]" for r, n in zip(REGS, start)))
    return {r: round((ref.taps[r] - 1) / STEP) for r in REGS}


@pytest.mark.parametrize("start", [(0, 0, 0), (8, 7, 9), (11, 9, 12), (12, 12, 12), (5, 5, 5)])
def test_the_devices_settle_where_opendss_regcontrol_does(tmp_path: Path, start: tuple[int, ...]) -> None:
    assert device_taps_from(tmp_path, start) == opendss_settles_from(start)


def test_the_published_taps_are_held(tmp_path: Path) -> None:
    published = (10, 8, 11)
    assert opendss_settles_from(published) == dict(zip(REGS, published))
    out = tmp_path / "out"
    run_scenario(load_scenario(scenario_from(tmp_path, published, duration="1h")), out)
    with (out / "timeseries.csv").open() as f:
        moves = [r for r in csv.DictReader(f) if r["quantity"] == "tap_position"]
    assert moves == []  # in band on all three phases: no tap change in an hour


def test_tap_changes_follow_the_time_delay_then_the_tap_delay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_scenario(load_scenario(scenario_from(tmp_path, (0, 0, 0))), out)
    with (out / "timeseries.csv").open() as f:
        moves = [(float(r["time_s"]), int(float(r["value"]))) for r in csv.DictReader(f)
                 if r["entity"] == "device/reg1_control" and r["quantity"] == "tap_position"]
    times = [t for t, _ in moves]
    assert times[0] == 15.0  # the first change after the 15 s delay
    assert all(b - a == 2.0 for a, b in zip(times, times[1:]))  # then one step every 2 s
    assert [p for _, p in moves] == list(range(1, len(moves) + 1))


def test_manual_mode_moves_taps_only_on_command(tmp_path: Path) -> None:
    world, _ = build_world(load_scenario(scenario_from(tmp_path, (0, 0, 0), mode="manual")), None)
    world.run(120.0)
    grid = world.service("grid")
    assert grid.measurements().tap_ratio("reg1") == 1.0  # out of band, but manual: no move
    device = world.service("devices")["reg1_control"]
    write_register(device, "tap_position_command", 4)
    world.run(130.0)
    assert grid.measurements().tap_ratio("reg1") == pytest.approx(1 + 4 * STEP)
    assert device.store.get("tap_position") == 4


def test_auto_mode_refuses_a_tap_command(tmp_path: Path) -> None:
    world, _ = build_world(load_scenario(scenario_from(tmp_path, (10, 8, 11))), None)
    world.run(30.0)
    device = world.service("devices")["reg2_control"]
    with pytest.raises(ModbusError):
        write_register(device, "tap_position_command", 3)
    assert world.service("grid").measurements().tap_ratio("reg2") == pytest.approx(1 + 8 * STEP)


def test_a_regulator_stops_at_its_end_stop() -> None:
    settings = RegulatorSettings(RegulatorMode.AUTO, 122.0, 2.0, 15.0, 2.0, 0.0, 0.0, 20.0, 700.0)
    control = RegulatorController(settings, step=16)
    assert control.step(0.0, 100.0) == 0 and control.step(100.0, 100.0) == 0
    control = RegulatorController(settings, step=15)
    assert control.step(0.0, 100.0) == 0 and control.step(15.0, 100.0) == 1 and control.step_position == 16
