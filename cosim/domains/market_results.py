"""The market's results as one table, ``market_results.csv``: what each auction and each SCED interval cleared.

The time series (``timeseries.csv``) hold the same prices among every other
quantity of the run; this table holds only what the market decided, one
value a row, so a lab can filter it in a spreadsheet and the report can show
it as a table (:mod:`cosim.report.market`). Columns:

``market, time_s, name, quantity, value, unit``

* ``rpm`` rows, one set per auction (``name`` = the delivery year):
  ``clearing_price`` ($/MW-day), ``cleared_ucap`` and ``dr_cleared_ucap`` (MW);
* ``sced`` rows, one set per solved interval [time_s, time_s + interval):
  ``lmp`` per bus ($/MWh); ``dispatched`` per generator offer of the market
  case (MW); ``economic_dr_cleared`` per economic DR offer (MW);
  ``prd_cleared`` per bus with PRD (MW, the reduction the SCED cleared on
  the PRD curve); ``prd_metered`` per zone (MW, the reduction the zone's
  telemetry last reported); ``shortage`` (MW of load the SCED could not
  serve, name ``system``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..kernel import World

TABLE = "market_results"
COLUMNS = ("market", "time_s", "name", "quantity", "value", "unit")


class MarketResults:
    """Writes the rows of ``market_results.csv`` (simulated time from the world's clock)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.table = world.recorder.table(TABLE, COLUMNS)

    def _row(self, market: str, name: str, quantity: str, value: float, unit: str) -> None:
        self.table.write((market, repr(self.world.now), name, quantity, repr(float(value)), unit))

    def auction(self, delivery_year: str, clearing_price_usd_per_mw_day: float, cleared_ucap_mw: float,
                dr_cleared_ucap_mw: float) -> None:
        self._row("rpm", delivery_year, "clearing_price", clearing_price_usd_per_mw_day, "$/MW-day")
        self._row("rpm", delivery_year, "cleared_ucap", cleared_ucap_mw, "MW")
        self._row("rpm", delivery_year, "dr_cleared_ucap", dr_cleared_ucap_mw, "MW")

    def sced(self, lmp_usd_per_mwh: Mapping[str, float], dispatched_mw: Mapping[str, float],
             economic_dr_mw: Mapping[str, float], prd_cleared_mw: Mapping[str, float],
             prd_metered_mw: Mapping[str, float], shortage_mw: float) -> None:
        """One solved SCED interval; each mapping is name -> value, written in its order."""
        for bus, lmp in lmp_usd_per_mwh.items():
            self._row("sced", bus, "lmp", lmp, "$/MWh")
        for unit, mw in dispatched_mw.items():
            self._row("sced", unit, "dispatched", mw, "MW")
        for offer, mw in economic_dr_mw.items():
            self._row("sced", offer, "economic_dr_cleared", mw, "MW")
        for bus, mw in prd_cleared_mw.items():
            self._row("sced", bus, "prd_cleared", mw, "MW")
        for zone, mw in prd_metered_mw.items():
            self._row("sced", zone, "prd_metered", mw, "MW")
        self._row("sced", "system", "shortage", shortage_mw, "MW")
