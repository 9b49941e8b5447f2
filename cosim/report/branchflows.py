"""Market flow against physical flow on each branch the market monitors.

The ISO's SCED records, for every branch with a limit in its case, the DC
flow it priced (``<iso>/branch/<name>``: ``sced_flow`` and ``sced_limit``);
the grid sampler records the AC flow the grid carried (``branch/<name>``:
``p_from``, and ``loading`` in percent of the branch rating). This module
pairs them by branch name: one figure per branch (market flow, its limit,
physical flow) and one table row (largest of each, physical flow in percent
of the market limit), so a reader sees whether the grid agrees with the
prices. The documented margin is in ``docs/markets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .plots import Figure, Series

MARKET_FLOW = "sced_flow"
MARKET_LIMIT = "sced_limit"


@dataclass(frozen=True)
class BranchFlows:
    """One monitored branch: what the market priced and what the grid carried (MW, %)."""

    branch: str
    market: Series
    limit_mw: float
    physical: Series | None
    loading: Series | None

    def max_market_mw(self) -> float:
        return max((abs(v) for v in self.market.values), default=0.0)

    def max_physical_mw(self) -> float | None:
        return max((abs(v) for v in self.physical.values), default=0.0) if self.physical else None

    def max_physical_pct(self) -> float | None:
        """Largest physical |P| in percent of the market limit (None without grid samples)."""
        peak = self.max_physical_mw()
        return None if peak is None or self.limit_mw <= 0 else 100.0 * peak / self.limit_mw

    def max_loading_pct(self) -> float | None:
        return max(self.loading.values, default=0.0) if self.loading else None


def monitored_branches(series: list[Series]) -> list[BranchFlows]:
    """Every branch with a market flow series, paired with the grid's series of the same branch name."""
    by_key = {(s.entity, s.quantity): s for s in series}
    found = []
    for s in series:
        if s.quantity != MARKET_FLOW or "/branch/" not in s.entity:
            continue
        name = s.entity.split("/branch/", 1)[1]
        limit = by_key.get((s.entity, MARKET_LIMIT))
        found.append(BranchFlows(name, s, max(limit.values) if limit and limit.values else float("nan"),
                                 by_key.get((f"branch/{name}", "p_from")), by_key.get((f"branch/{name}", "loading"))))
    return sorted(found, key=lambda b: b.branch)


def flow_figure(flows: BranchFlows) -> Figure:
    """Market flow, its limit (both directions) and the physical flow of one branch, in MW."""
    market = flows.market
    limit = Series(f"limit {flows.limit_mw:g} MW", "limit", "MW", (market.times_s[0], market.times_s[-1]),
                   (flows.limit_mw, flows.limit_mw)) if market.times_s else None
    traces = [Series(f"market (SCED) {flows.branch}", market.quantity, "MW", market.times_s, market.values)]
    if flows.physical is not None:
        traces.append(Series(f"grid (AC) {flows.branch}", "p_from", "MW", flows.physical.times_s, flows.physical.values))
    if limit is not None:
        traces.append(limit)
    return Figure("Markets", f"flow on {flows.branch}: market against grid", "MW", tuple(traces), False)


def flow_table_rows(branches: list[BranchFlows]) -> list[list[str]]:
    """Rows: branch, limit, max market flow, max physical flow, its % of the limit, max loading % of rating."""
    def fmt(value: float | None, digits: int = 1) -> str:
        return "" if value is None else f"{value:.{digits}f}"
    return [[b.branch, fmt(b.limit_mw), fmt(b.max_market_mw()), fmt(b.max_physical_mw()),
             fmt(b.max_physical_pct(), 2), fmt(b.max_loading_pct(), 2)] for b in branches]
