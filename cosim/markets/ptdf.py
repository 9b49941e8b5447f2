"""Power Transfer Distribution Factors of a DC network model.

The market's view of the transmission network is linear (DC power flow: flat
voltages, no resistance, small angles), so the flow on every branch is a fixed
linear combination of the bus injections: ``flow_mw = PTDF @ injection_mw``.
SCED uses this matrix for its line limits and to split LMPs into energy and
congestion components. The matrix depends on the reference bus: injections
are balanced by withdrawal at that bus, whose column is therefore zero.

This is the market operator's own network model (a case file in
``cosim/markets/cases``), deliberately separate from ``cosim.grid``: Markets
learns about the grid only through data and messages, never by reading it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def ptdf_matrix(
    n_bus: int, from_bus: IntArray, to_bus: IntArray, x_pu: FloatArray, reference_bus: int
) -> FloatArray:
    """PTDF, shape (n_branch, n_bus), MW of branch flow (from -> to) per MW injected.

    Raises ValueError for a non-positive reactance or an islanded network
    (singular reduced susceptance matrix).
    """
    if np.any(x_pu <= 0):
        raise ValueError("DC model needs every branch reactance x_pu > 0")
    n_branch = len(x_pu)
    incidence = np.zeros((n_branch, n_bus))
    rows = np.arange(n_branch)
    incidence[rows, from_bus] = 1.0
    incidence[rows, to_bus] = -1.0
    b = 1.0 / x_pu
    b_branch = b[:, None] * incidence          # branch flow per bus angle
    b_bus = incidence.T @ b_branch             # nodal susceptance matrix
    keep = np.array([i for i in range(n_bus) if i != reference_bus])
    try:
        inv = np.linalg.inv(b_bus[np.ix_(keep, keep)])
    except np.linalg.LinAlgError:
        raise ValueError("network is not connected: reduced B matrix is singular") from None
    ptdf = np.zeros((n_branch, n_bus))
    ptdf[:, keep] = b_branch[:, keep] @ inv
    return ptdf
