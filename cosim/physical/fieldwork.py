"""A field crew's hands on site: repairing damage, working a switch, looking at a line on patrol.

The crews' dispatcher (:func:`cosim.domains.distribution.field_crews`) takes
work orders over MQTT, queues them for a free crew, sends the crew on its way
and reports back over MQTT. Once the crew stands at the site, what it does is
physical work, not information: it sees the damage with its own eyes, fixes
it with its hands, and pulls a switch's handle. That work is here, and only
here may a crew touch the grid or a device:

* :func:`patrol` -- what a patrol of some buses finds: the study's damage
  register (:mod:`cosim.reliability.damage`) when there is one, else the
  grid's active fault;
* :func:`repair` -- the repair on site: its duration (the damage register's,
  else drawn), then the damage cleared (the register's repair, else the
  grid's fault);
* :func:`operate_switch` -- a switch worked by hand, at its device's local
  control or its own handle (:mod:`devices.field.handle`).

Each is a generator over the World taking simulated time (seconds).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..grid import ClearFault
from ..kernel import World

if TYPE_CHECKING:  # devices.config imports the domains, which import this module: devices load at first use
    from devices.field.base import DeviceLayer


def device_layer(world: World) -> "DeviceLayer":
    """The world's field devices; a scenario without any gets an empty layer (switch handles only)."""
    if not world.has_service("devices"):
        from devices.field.base import DeviceLayer

        world.add_service("devices", DeviceLayer(world, world.service("grid"), None))
    layer: "DeviceLayer" = world.service("devices")
    return layer


def _damage(world: World) -> Any | None:
    return world.service("damage") if world.has_service("damage") else None


def _fault_buses(world: World) -> set[str]:
    """The buses at the grid's active fault (both ends of a faulted branch); empty if none."""
    grid = world.service("grid")
    fault = grid.active_fault
    if fault is None:
        return set()
    if fault.bus is not None:
        return {fault.bus}
    network = grid.network
    k = network.branches.index(fault.branch or "")
    names = network.buses.name
    return {str(names[int(network.branches.from_bus[k])]), str(names[int(network.branches.to_bus[k])])}


def patrol(world: World, buses: tuple[str, ...], duration_s: float) -> Generator[Any, Any, tuple[str, ...]]:
    """Patrol ``buses`` for ``duration_s``; returns the buses of the damage found there (sorted; empty: none)."""
    yield world.timeout(duration_s)
    damage = _damage(world)
    if damage is not None:
        return tuple(sorted({b for name in damage.found(buses) for b in damage.broken[name][0].buses}))
    at = _fault_buses(world)
    return tuple(sorted(at)) if at & set(buses) else ()


def repair(world: World, buses: tuple[str, ...], rng: np.random.Generator, mean_s: float) -> Generator[Any, Any, float]:
    """Repair the damage at ``buses``; returns the time on site (s).

    A study's damage register knows what failed there and how long its repair
    takes; otherwise the time is drawn from an exponential of mean ``mean_s``
    and the grid's active fault, if any, is cleared.
    """
    damage = _damage(world)
    known = damage.repair_time_s(buses) if damage is not None else None
    work_s = known if known is not None else float(rng.exponential(mean_s))
    yield world.timeout(work_s)
    if damage is not None:
        damage.repair(buses)
    else:
        grid = world.service("grid")
        if grid.active_fault is not None:
            grid.apply(ClearFault())
    return work_s


def operate_switch(world: World, switch: str, closed: bool, duration_s: float) -> Generator[Any, Any, str]:
    """Work ``switch`` by hand for ``duration_s``, then close (or open) it; returns what was worked."""
    from devices.field.handle import operate_by_hand

    yield world.timeout(duration_s)
    return operate_by_hand(device_layer(world), switch, closed)
