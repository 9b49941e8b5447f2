"""Sweeps: one base scenario run over a grid of parameters and seeds, in parallel, into one table.

``sweepfile`` reads and expands a sweep file (addresses in ``paths``),
``worker`` runs one run, ``executors`` decide where runs execute (this
process, local processes, Dask), ``sweep`` ties them together with
``--resume``, and ``collect`` writes the tidy results table. See docs/sweeps.md.
"""

from .sweep import SweepResult, run_sweep
from .sweepfile import RunPlan, Sweep, load_sweep

__all__ = ["RunPlan", "Sweep", "SweepResult", "load_sweep", "run_sweep"]
