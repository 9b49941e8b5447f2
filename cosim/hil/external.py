"""The simulation as Modbus master of real devices: poll a bench device, turn its points into grid actions.

A real relay on a test bench is a field device the simulation does not
emulate: its trip output coil opening a simulated breaker is exactly what an
emulated relay's trip does, so the mapping goes through the same intents
(:mod:`devices.intents`) and the same intent-to-action rule
(:mod:`devices.gridbinding`) as the device layer.
"""

from __future__ import annotations

from typing import Any, Generator

from cosim.comm.errors import ModbusResponseError, ModbusTimeoutError
from cosim.comm.modbus.client import ModbusMaster
from cosim.comm.modbus.datamodel import ModbusError
from devices.gridbinding import grid_action
from devices.intents import CloseSwitch, OpenSwitch

from .config import MasterConfig, PointMapping

_READ = {
    "coils": ModbusMaster.read_coils,
    "discrete_inputs": ModbusMaster.read_discrete_inputs,
    "holding_registers": ModbusMaster.read_holding_registers,
    "input_registers": ModbusMaster.read_input_registers,
}


def check_mapping(config: MasterConfig, grid: Any) -> list[str]:
    """Problems with ``config``'s references to the grid (an unknown switch), one line each."""
    problems = []
    for index, point in enumerate(config.points):
        if point.switch is None:
            continue
        if grid is None:
            problems.append(f"masters[{config.id}].points[{index}].switch: the scenario has no grid")
            continue
        try:
            grid.network.switches.index(point.switch)
        except (KeyError, ValueError):
            problems.append(f"masters[{config.id}].points[{index}].switch: no switch {point.switch!r} in the grid")
    return problems


def poll_external_device(world: Any, master: ModbusMaster, config: MasterConfig, grid: Any,
                         entity_prefix: str = "hil") -> Generator[Any, Any, None]:
    """Poll every point of ``config`` each ``config.poll`` simulated seconds, for ever.

    Records ``hil/<id>/online`` (1 answered, 0 not) each poll. A bit mapped
    to an action applies it when the bit changes to ``on`` (the first poll
    counts as a change), and logs ``hil_external_action``; a register mapped
    to ``record`` is recorded as ``hil/<id>/<record>``. A device that does not
    answer, or answers with an exception, is logged (``hil_external_error``,
    once per outage) and polled again next time: bench trouble is data.
    """
    entity = f"{entity_prefix}/{config.id}"
    last_bits: dict[int, int] = {}
    failing = False
    while True:
        online = 1.0
        for index, point in enumerate(config.points):
            try:
                values = yield from _READ[point.table](master, config.unit_id, point.address, 1)
            except (ModbusError, ModbusTimeoutError, ModbusResponseError) as error:
                online = 0.0
                if not failing:
                    world.log("hil_external_error", master=config.id, error=str(error))
                break
            _apply(world, grid, config, index, point, int(values[0]), last_bits, entity)
        failing = online == 0.0
        world.record(entity, "online", online, "bool")
        yield world.timeout(config.poll)


def _apply(world: Any, grid: Any, config: MasterConfig, index: int, point: PointMapping, value: int,
           last_bits: dict[int, int], entity: str) -> None:
    if point.record is not None:
        world.record(entity, point.record, value * point.scale, point.unit)
        return
    previous = last_bits.get(index)
    last_bits[index] = value
    if value != point.on or previous == point.on:
        return
    assert point.switch is not None
    intent = OpenSwitch(point.switch) if point.action == "open" else CloseSwitch(point.switch)
    grid.apply(grid_action(intent))
    world.log("hil_external_action", master=config.id, table=point.table, address=point.address,
              value=value, action=point.action, switch=point.switch)
