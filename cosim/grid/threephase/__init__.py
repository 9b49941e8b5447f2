"""Unbalanced three-phase power flow for distribution feeders (docs/unbalanced.md).

Pipeline of pure functions, as in the balanced layer: a ``.dss`` file is read
(:mod:`.dss_script` syntax, :mod:`.dss_reader` meaning) into a typed
:class:`Feeder`; :func:`build` stamps every element's primitive admittance
(:mod:`.primitives`) into one sparse nodal matrix over phase and neutral
conductors; :func:`solve` runs fixed-point current injection with the
voltage-dependent loads of :mod:`.loads`; :mod:`.results` turns node
voltages into per-unit values and power balance. :class:`FeederService` is
the stateful front: it takes the grid's typed actions and hands out
:class:`FeederMeasurements`. Balanced transmission cases keep the Newton
solver of :mod:`cosim.grid.acflow`. This package imports nothing from
``cosim.comm``.
"""

from pathlib import Path

from cosim.grid.threephase.actions import apply_feeder_action
from cosim.grid.threephase.dss_reader import read_dss
from cosim.grid.threephase.dss_script import DssError
from cosim.grid.threephase.elements import Feeder, Node
from cosim.grid.threephase.measurements import FeederMeasurements, PhaseVoltages, TerminalReading
from cosim.grid.threephase.results import ThreePhaseResult
from cosim.grid.threephase.service import FeederService
from cosim.grid.threephase.solver import build, solve

CASES = Path(__file__).parent / "cases"
IEEE13 = CASES / "ieee13" / "IEEE13Nodeckt.dss"
IEEE34 = CASES / "ieee34" / "ieee34Mod2.dss"
IEEE123 = CASES / "ieee123" / "IEEE123Master.dss"

__all__ = [
    "CASES", "DssError", "Feeder", "FeederMeasurements", "FeederService", "IEEE13", "IEEE34",
    "IEEE123", "Node",
    "PhaseVoltages", "TerminalReading", "ThreePhaseResult", "apply_feeder_action", "build",
    "read_dss", "solve",
]
