"""Security-constrained economic dispatch as a DC optimal power flow (one interval).

The linear programme (scipy ``linprog(method="highs")``), PTDF formulation:

    minimise    sum(offer price x cleared MW)            generator blocks
              + sum(DR offer price x reduction MW)        economic DR
              + sum(PRD threshold x reduction MW)         price responsive demand
              + shortage price x unserved MW              keeps the LP feasible
    subject to  sum(injections) = sum(loads)              -> energy price
                -limit <= PTDF @ net injection <= limit   -> congestion prices
                0 <= each variable <= its MW

Economic DR is dispatched exactly like a generator at its offer price; it is a
reduction of load at its bus, so in the balance it counts as an injection
there (SEED-003: capacity DR dispatched economically through SCED).

PRD is modelled as a *demand bid*, inside the LP: the PRD MW are consumed only
while the bus LMP is below the threshold, which is the same as offering a
reduction at the threshold price. Solving it in one LP gives the fixed point
that an iterative "solve, look at LMPs, drop PRD load, re-solve" scheme is
looking for, without its oscillation when the PRD itself moves the price
across the threshold (then the PRD block is partially cleared and sets the
LMP at its threshold, as a marginal generator would).

LMPs come from the duals: LMP_n = energy + congestion_n + loss_n, where energy
is the dual of the power balance (the price at the reference bus, where every
PTDF column is zero) and congestion_n = sum over limited branches of
PTDF[l, n] x (their duals). The loss component is zero: a DC model is lossless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from cosim.markets.case import DcMarketCase
from cosim.markets.ptdf import ptdf_matrix

FloatArray = NDArray[np.float64]

#: Price of unserved energy in the LP, $/MWh (a modelling value, not PJM's).
DEFAULT_SHORTAGE_PRICE_USD_PER_MWH = 10_000.0


@dataclass(frozen=True)
class ScedResult:
    solved: bool
    message: str
    buses: tuple[str, ...]
    lmp_usd_per_mwh: FloatArray
    energy_usd_per_mwh: float
    congestion_usd_per_mwh: FloatArray
    loss_usd_per_mwh: FloatArray  # always zero in a DC model
    generator_mw: dict[str, float]
    dr_mw: dict[str, float]
    prd_mw: dict[str, float]
    shortage_mw: FloatArray
    branch_names: tuple[str, ...]
    flow_mw: FloatArray
    branch_shadow_usd_per_mwh: FloatArray  # >0 where a limit binds
    cost_usd_per_h: float

    def lmp(self, bus: str) -> float:
        return float(self.lmp_usd_per_mwh[self.buses.index(bus)])


def solve_sced(
    case: DcMarketCase,
    load_mw: FloatArray | None = None,
    shortage_price_usd_per_mwh: float = DEFAULT_SHORTAGE_PRICE_USD_PER_MWH,
) -> ScedResult:
    """Dispatch one interval; ``load_mw`` (per load, same order) overrides the case.

    Runs in no simulated time. A failed solve is returned with ``solved=False``
    and NaN prices, never raised: it is simulation data.
    """
    n_bus = len(case.buses)
    ix = case.bus_index
    loads = np.array([d.mw for d in case.loads]) if load_mw is None else np.asarray(load_mw, float)
    bus_load = np.zeros(n_bus)
    np.add.at(bus_load, [ix(d.bus) for d in case.loads], loads)

    # Columns: generator blocks, DR offers, PRD blocks, shortage per bus.
    cols_bus: list[int] = []
    cost: list[float] = []
    upper: list[float] = []
    owner: list[tuple[str, str]] = []
    for g in case.generators:
        for blk in g.blocks:
            cols_bus.append(ix(g.bus)); cost.append(blk.price_usd_per_mwh)
            upper.append(blk.mw); owner.append(("gen", g.name))
    for d in case.dr_offers:
        cols_bus.append(ix(d.bus)); cost.append(d.price_usd_per_mwh)
        upper.append(d.mw); owner.append(("dr", d.name))
    for p in case.prd:
        cols_bus.append(ix(p.bus)); cost.append(p.threshold_usd_per_mwh)
        upper.append(p.mw); owner.append(("prd", p.name))
    for b in range(n_bus):
        cols_bus.append(b); cost.append(shortage_price_usd_per_mwh)
        upper.append(bus_load[b]); owner.append(("short", case.buses[b]))
    n_var = len(cost)
    inj = np.zeros((n_bus, n_var))          # bus injection per variable
    inj[cols_bus, np.arange(n_var)] = 1.0

    ptdf = ptdf_matrix(
        n_bus,
        np.array([ix(b.from_bus) for b in case.branches], dtype=np.int64),
        np.array([ix(b.to_bus) for b in case.branches], dtype=np.int64),
        np.array([b.x_pu for b in case.branches]),
        ix(case.reference_bus),
    )
    limited = [i for i, b in enumerate(case.branches) if b.limit_mw is not None]
    lim = np.array([case.branches[i].limit_mw for i in limited], dtype=float)
    p_lim = ptdf[limited]
    a_ub = np.vstack([p_lim @ inj, -p_lim @ inj]) if limited else None
    base_flow = p_lim @ bus_load
    b_ub = np.concatenate([lim + base_flow, lim - base_flow]) if limited else None

    res = linprog(
        c=np.array(cost), A_ub=a_ub, b_ub=b_ub,
        A_eq=np.ones((1, n_var)), b_eq=[bus_load.sum()],
        bounds=list(zip([0.0] * n_var, upper)), method="highs",
    )
    names = tuple(b.name for b in case.branches)
    if res.status != 0:
        nan = np.full(n_bus, np.nan)
        return ScedResult(False, res.message, case.buses, nan, float("nan"), nan, np.zeros(n_bus),
                          {}, {}, {}, nan, names, np.full(len(names), np.nan),
                          np.full(len(names), np.nan), float("nan"))

    x = res.x
    energy = float(res.eqlin.marginals[0])
    congestion = np.zeros(n_bus)
    shadow = np.zeros(len(names))
    if limited:
        m = res.ineqlin.marginals                     # d cost / d b_ub, <= 0
        k = len(limited)
        # d b_ub / d load_n is +PTDF (upper rows) and -PTDF (lower rows).
        congestion = p_lim.T @ (m[:k] - m[k:])
        shadow[limited] = -(m[:k] + m[k:])
    flow = ptdf @ (inj @ x - bus_load)

    per: dict[str, dict[str, float]] = {"gen": {}, "dr": {}, "prd": {}}
    shortage = np.zeros(n_bus)
    for j, (kind, name) in enumerate(owner):
        if kind == "short":
            shortage[cols_bus[j]] = x[j]
        else:
            per[kind][name] = per[kind].get(name, 0.0) + float(x[j])
    return ScedResult(
        True, res.message, case.buses, energy + congestion, energy, congestion, np.zeros(n_bus),
        per["gen"], per["dr"], per["prd"], shortage, names, flow, shadow, float(res.fun),
    )
