"""Distribution-system reliability: outage accounting (IEEE 1366) and RBTS reliability studies.

- :class:`InterruptionLog` and :func:`compute_indices`: indices from interruption
  records, for the outage management system of a co-simulation run;
- :class:`ReliabilityStudyConfig` and :func:`run_study`: analytic (failure modes
  and effects) and sequential Monte Carlo study of a radial distribution
  system, shipped with RBTS Bus 2 and Bus 4 (Allan et al., IEEE Trans. Power
  Systems 6(2), 1991).

See docs/reliability.md.
"""

from .config import ReliabilityStudyConfig
from .indices import InterruptionLog, ReliabilityIndices, SystemIndices, compute_indices
from .study import StudyResult, run_study

__all__ = [
    "InterruptionLog",
    "ReliabilityIndices",
    "ReliabilityStudyConfig",
    "StudyResult",
    "SystemIndices",
    "compute_indices",
    "run_study",
]
