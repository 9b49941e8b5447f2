"""The scenario's view of its grid: validate the ``grid:`` section and resolve element references.

Actors own grid elements, applications drive them and events strike them, all
by reference ``kind/name`` (``bus/dx_mv``, ``load/home_1``, ``switch/feeder1_cb``).
The grid is built once while loading, so a bad reference into a MATPOWER case
is reported before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..grid import GridConfig, Network, build_network
from .strictvalues import validate_input

ELEMENT_KINDS: dict[str, str] = {
    "bus": "buses",
    "branch": "branches",
    "switch": "switches",
    "load": "loads",
    "gen": "generators",
    "der": "ders",
    "shunt": "shunts",
}
"""Reference prefix -> Network table."""


def element_names(network: Network) -> dict[str, frozenset[str]]:
    """Names of every element by reference kind."""
    return {kind: frozenset(getattr(network, table).name) for kind, table in ELEMENT_KINDS.items()}


def parse_grid(raw: dict[str, Any], base_dir: Path) -> tuple[GridConfig, Network]:
    """Validate and build; raises pydantic's ValidationError or cosim.grid.GridBuildError."""
    config = validate_input(GridConfig, raw)
    return config, build_network(config, base_dir)


def check_reference(reference: str, names: dict[str, frozenset[str]], allowed: tuple[str, ...] = tuple(ELEMENT_KINDS)) -> str | None:
    """None if ``reference`` names an element of an allowed kind, else why not."""
    kind, _, name = reference.partition("/")
    if not name or kind not in ELEMENT_KINDS:
        return f"{reference!r} is not a grid reference (write kind/name with kind one of {', '.join(allowed)})"
    if kind not in allowed:
        return f"{reference!r} is a {kind}; expected one of {', '.join(allowed)}"
    if name not in names[kind]:
        return f"{reference!r}: no {kind} named {name!r} in the grid"
    return None


__all__ = ["ELEMENT_KINDS", "check_reference", "element_names", "parse_grid"]


EARTH_FAULT_TYPES = ("slg", "llg")


def earth_fault_findings(spec: Any, config: GridConfig, network: Network) -> list[tuple[tuple[object, ...], str]]:
    """(path, message) for each ``fault`` event of an earth-fault type on a grid that lacks zero-sequence data.

    Checked while loading, so the run does not stop at the fault's instant.
    """
    events = [(i, e) for i, e in enumerate(spec.events)
              if e.kind == "fault" and isinstance(e.params, dict) and e.params.get("type") in EARTH_FAULT_TYPES]
    if not events:
        return []
    from ..grid.asymmetric_faults import check_zero_sequence
    from ..grid.short_circuit_config import short_circuit_data

    try:
        check_zero_sequence(network, short_circuit_data(config, network).zero)
    except ValueError as error:
        return [(("events", i, "params", "type"), f"a {e.params['type']} fault needs zero-sequence data: {error}")
                for i, e in events]
    return []
