"""Stand-in field devices for the Operations stories, until the devices layer binds real ones.

Test scaffolding, not device code: a recloser control (the devices package's
:class:`~devices.protection.recloser.Recloser` sequencer behind the standard
recloser register map) and a switch RTU with a latching fault-passage
indicator, each served over the scenario's comm network. They read the grid
when it changes (the grid's ``apply`` is wrapped to fire an event) and on
their own timers, and act through ``devices.gridbinding``.
"""

from __future__ import annotations

from typing import Any, Generator

from cosim.grid import SetSwitch
from cosim.kernel import World
from devices.gridbinding import grid_action
from devices.protection.curves import Curve
from devices.protection.overcurrent import TimeOvercurrentSettings
from devices.protection.recloser import Recloser, RecloserSettings
from devices.registermaps import RtuPoint, RtuPointKind, recloser_map, rtu_map
from devices.registermap import DataType
from devices.registerstore import RegisterStore

FPI_PICKUP_A = 400.0
RTU_POINTS = (
    RtuPoint("closed", RtuPointKind.STATUS, default=True),
    RtuPoint("fault_indicator", RtuPointKind.STATUS),
    RtuPoint("open_command", RtuPointKind.CONTROL),
    RtuPoint("close_command", RtuPointKind.CONTROL),
    RtuPoint("reset_indicator", RtuPointKind.CONTROL),
    RtuPoint("current_a", RtuPointKind.ANALOG, data_type=DataType.U16, unit="A"),
)


class GridChanges:
    """Wraps ``grid.apply`` so device stand-ins wake when the grid changes."""

    def __init__(self, world: World, grid: Any) -> None:
        self.world = world
        self.event = world.env.event()
        original = grid.apply

        def apply(action: Any) -> Any:
            change = original(action)
            event, self.event = self.event, world.env.event()
            event.succeed()
            return change

        grid.apply = apply


def _wait(world: World, changes: GridChanges, delay_s: float) -> Any:
    return world.env.any_of([world.timeout(max(delay_s, 1e-3)), changes.event])


def recloser_standin(world: World, changes: GridChanges, node: str, switch: str) -> None:
    grid, comm = world.service("grid"), world.service("comm")
    store = RegisterStore(recloser_map())
    comm.modbus_server(node).add_unit(1, store)
    sequencer = Recloser(switch, RecloserSettings(
        fast=TimeOvercurrentSettings(400.0, Curve.IEEE_EXTREMELY_INVERSE.curve, 0.1),
        delayed=TimeOvercurrentSettings(400.0, Curve.IEEE_VERY_INVERSE.curve, 1.0)))
    trips = [0]

    def act(intents: list[Any]) -> None:
        for intent in intents:
            if type(intent).__name__ == "TripBreaker":
                trips[0] += 1
            grid.apply(grid_action(intent))

    def command(method: str, coil: str) -> Any:
        def on_write(point: Any, value: Any) -> None:
            if value:
                act(getattr(sequencer, method)(world.now))
                store.set(coil, False)
        return on_write

    store.on_write("trip_command", command("remote_trip", "trip_command"))
    store.on_write("close_command", command("remote_close", "close_command"))
    store.on_write("reset_lockout_command", command("reset_lockout", "reset_lockout_command"))

    def run() -> Generator[Any, Any, None]:
        while True:
            m = grid.measurements()
            current = m.switch(switch).i_a if m.switch_closed(switch) else 0.0
            act(sequencer.step(world.now, current))
            m = grid.measurements()
            store.set("closed", m.switch_closed(switch))
            store.set("locked_out", sequencer.locked_out)
            store.set("trip_count", trips[0])
            store.set("operations_in_sequence", sequencer.operations)
            store.set("current_a_a", min(m.switch(switch).i_a, 65535.0))
            yield _wait(world, changes, min(sequencer.next_event_time_s() - world.now, 60.0))

    world.process(run())


def switch_rtu_standin(world: World, changes: GridChanges, node: str, switch: str) -> None:
    grid, comm = world.service("grid"), world.service("comm")
    store = RegisterStore(rtu_map(RTU_POINTS, name=node))
    comm.modbus_server(node).add_unit(1, store)

    def coil(name: str, action: Any) -> None:
        def on_write(point: Any, value: Any) -> None:
            if value:
                action()
                store.set(name, False)
        store.on_write(name, on_write)

    coil("open_command", lambda: grid.apply(SetSwitch(switch, False)))
    coil("close_command", lambda: grid.apply(SetSwitch(switch, True)))
    coil("reset_indicator", lambda: store.set("fault_indicator", False))

    def run() -> Generator[Any, Any, None]:
        while True:
            m = grid.measurements()
            current = m.switch(switch).i_a
            if current > FPI_PICKUP_A:
                store.set("fault_indicator", True)
            store.set("closed", m.switch_closed(switch))
            store.set("current_a", min(current, 65535.0))
            yield _wait(world, changes, 60.0)

    world.process(run())


def attach_standins(world: World) -> GridChanges:
    """The devices of configs/flisr_*.yaml."""
    changes = GridChanges(world, world.service("grid"))
    recloser_standin(world, changes, "rec1", "rec1")
    recloser_standin(world, changes, "rec2", "rec2")
    for node, switch in (("rtu_s2", "s2"), ("rtu_s3", "s3"), ("rtu_tie", "tie")):
        switch_rtu_standin(world, changes, node, switch)
    return changes
