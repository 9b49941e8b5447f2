"""The electrical layer: network arrays, AC/DC power flow, islands, fault currents.

Pipeline of pure functions (``admittance`` -> ``newton`` -> ``results``, with
``topology`` deciding islands and slacks); one stateful front,
:class:`GridService`, that changes the network only through typed actions and
re-solves only when something changed. Devices read :class:`GridMeasurements`.
This package imports nothing from ``cosim.comm``.
"""

from cosim.grid.acflow import solve_ac
from cosim.grid.actions import (
    Action,
    ApplyFault,
    Change,
    ClearFault,
    CurtailDer,
    FaultType,
    ScaleLoad,
    SetBranchInService,
    SetDerOutput,
    SetGeneratorSetpoint,
    SetLoad,
    SetLoadInService,
    SetShuntStep,
    SetSwitch,
    SetTap,
    apply_action,
)
from cosim.grid.config import GridBuildError, GridConfig, build_network
from cosim.grid.dcflow import solve_dc
from cosim.grid.faults import FaultResult, fault_study
from cosim.grid.matpower import CaseFormatError, load_case
from cosim.grid.measurements import BranchEnd, GridMeasurements, PhaseSequence, ProtectionReading
from cosim.grid.network import Network
from cosim.grid.results import IslandReport, PowerFlowResult
from cosim.grid.service import GridService

__all__ = [
    "Action", "ApplyFault", "BranchEnd", "CaseFormatError", "Change", "ClearFault", "CurtailDer",
    "FaultResult", "FaultType", "GridBuildError", "GridConfig", "GridMeasurements", "GridService",
    "IslandReport", "Network", "PhaseSequence", "PowerFlowResult", "ProtectionReading", "ScaleLoad", "SetBranchInService",
    "SetDerOutput", "SetGeneratorSetpoint", "SetLoad", "SetLoadInService", "SetShuntStep",
    "SetSwitch", "SetTap", "apply_action", "build_network", "fault_study", "load_case",
    "solve_ac", "solve_dc",
]
