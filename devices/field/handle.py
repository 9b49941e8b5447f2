"""A switch operated by hand: what a crew on site works, at a device's local control or at the switch itself.

One job: carry a crew's manual switching into the grid through the field-device
layer, the way it happens on site. A switch that a device operates (a relay's
breaker, a recloser, an RTU's motor operator) is worked at that device's
local control: the command is queued on the device, whose next wake applies
it and measures its effect like any of its own operations. A switch no device
operates (a manual disconnect, a normally-open point) is worked with its own
handle, a device of its own with no logic and no communication. Either way
the change is a logged ``device_action``; the crews application never applies
grid actions itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.gridbinding import grid_action
from devices.intents import CloseSwitch, OpenSwitch

if TYPE_CHECKING:
    from devices.field.base import DeviceLayer, FieldDevice


def operator_of(layer: "DeviceLayer", switch: str) -> "FieldDevice | None":
    """The device that operates ``switch`` (its ``switch:`` or an RTU control point on it), if any (first by id)."""
    for device_id in sorted(layer):
        device = layer[device_id]
        config = device.config
        if getattr(config, "switch", None) == switch:
            return device
        for point in getattr(config.params, "points", ()) or ():
            if getattr(point, "kind", "") == "control" and str(getattr(point, "source", "")).startswith(f"switch/{switch}:"):
                return device
    return None


class SwitchHandle:
    """The handle of a switch without a device: opening or closing it is one grid action, logged as a device's."""

    kind = "switch_handle"

    def __init__(self, layer: "DeviceLayer", switch: str) -> None:
        self.layer = layer
        self.switch = switch
        self.device_id = f"handle/{switch}"

    def operate(self, closed: bool) -> None:
        action = grid_action(CloseSwitch(self.switch) if closed else OpenSwitch(self.switch))
        grid = self.layer.grid
        if grid is None:
            return
        grid.apply(action)
        self.layer.world.log("device_action", device=self.device_id, action=type(action).__name__, switch=self.switch, closed=closed)


def operate_by_hand(layer: "DeviceLayer", switch: str, closed: bool) -> str:
    """Open or close ``switch`` on site; returns the id of the device (or handle) that did it."""
    device = operator_of(layer, switch)
    intent = CloseSwitch(switch) if closed else OpenSwitch(switch)
    if device is not None:
        device.queue(lambda now: [intent])  # the device's local control: applied at its next wake (now)
        return device.device_id
    handle = SwitchHandle(layer, switch)
    handle.operate(closed)
    return handle.device_id
