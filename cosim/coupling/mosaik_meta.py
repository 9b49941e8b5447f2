"""What gridcosim offers a mosaik scenario, as data: entity types, their inputs and outputs, with units.

mosaik asks each simulator for its ``meta``; here it is built from these
tables and from the devices the loaded scenario has, so a device's outputs
are exactly the points of its register map.
"""

from __future__ import annotations

from typing import Any, cast

from mosaik_api_v3.types import Meta

GRID_MODEL = "Grid"
"""The one public model: a whole scenario. Its children are the grid's elements and the scenario's devices."""

ELEMENT_MODELS: dict[str, dict[str, tuple[str, ...]]] = {
    # model: {"inputs": settable from outside (MW, Mvar), "outputs": read after each step}
    "Bus": {"inputs": (), "outputs": ("vm_pu", "va_deg", "v_kv", "energised")},
    "Branch": {"inputs": (), "outputs": ("p_from_mw", "q_from_mvar", "i_from_a", "closed")},
    "Load": {"inputs": ("p_mw", "q_mvar"), "outputs": ("p_mw", "q_mvar", "served", "vm_pu")},
    "Der": {"inputs": ("p_mw", "q_mvar"), "outputs": ("p_mw", "q_mvar")},
    "Generator": {"inputs": ("p_mw",), "outputs": ("p_mw", "q_mvar")},
}
"""Electrical elements as mosaik models; the attribute names carry their units."""

GRID_PARAMS = ("scenario", "seed")
"""``world.start('Grid', scenario=..., step_size=...)`` takes the scenario; ``create`` may override the seed."""


def device_model_name(kind: str) -> str:
    """``protective_relay`` -> ``ProtectiveRelay``: a device kind as a mosaik model name."""
    return "".join(part.capitalize() for part in kind.split("_"))


def build_meta(event_based: bool, device_points: dict[str, tuple[str, ...]]) -> Meta:
    """mosaik-api-v3 meta: ``device_points`` maps each device model (one per kind) to its points.

    Time-based: mosaik steps the grid every ``step_size``. Event-based: every
    input is a trigger (mosaik's rule for event-based simulators: a new
    household value steps the grid at once), and the grid asks to be stepped
    again at its next internal event.
    """
    models: dict[str, Any] = {GRID_MODEL: {"public": True, "params": list(GRID_PARAMS), "attrs": []}}
    for name, spec in ELEMENT_MODELS.items():
        attrs = sorted(set(spec["inputs"]) | set(spec["outputs"]))
        models[name] = {"public": False, "params": [], "attrs": attrs}
    for model_name, points in sorted(device_points.items()):
        models[model_name] = {"public": False, "params": [], "attrs": list(points)}
    return cast(Meta, {"api_version": "3.0", "type": "event-based" if event_based else "time-based", "models": models})
