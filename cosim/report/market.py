"""The report's market results: each auction's clearing, and the SCED's intervals hour by hour.

Reads ``market_results.csv`` (written by :mod:`cosim.domains.market_results`,
one value a row). Auctions are few and shown whole. A day has 288 SCED
intervals, too many to read, so they are shown as hourly means: the LMP at
each bus, the MW dispatched per generator offer, economic DR and PRD (summed
over offers, buses and zones); every interval stays in the CSV.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

from .tables import html_table

#: SCED quantities shown as one column each, summed over their names (offers, buses, zones).
SUMMED = (("economic_dr_cleared", "economic DR cleared (MW)"), ("prd_cleared", "PRD cleared (MW)"),
          ("prd_metered", "PRD metered (MW)"), ("shortage", "shortage (MW)"))


def read_results(path: Path) -> list[tuple[str, float, str, str, float]]:
    """(market, time_s, name, quantity, value) of every row that parses; a half-written last line is skipped."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                rows.append((row["market"], float(row["time_s"]), row["name"], row["quantity"], float(row["value"])))
            except (KeyError, TypeError, ValueError):
                continue
    return rows


def auction_rows(rows: list[tuple[str, float, str, str, float]]) -> list[list[object]]:
    """One row per auction: delivery year, time, clearing price, cleared UCAP, DR cleared."""
    found: dict[tuple[float, str], dict[str, float]] = defaultdict(dict)
    for market, time_s, name, quantity, value in rows:
        if market == "rpm":
            found[(time_s, name)][quantity] = value
    return [[year, time_s, v.get("clearing_price", math.nan), v.get("cleared_ucap", math.nan),
             v.get("dr_cleared_ucap", math.nan)] for (time_s, year), v in sorted(found.items())]


def hourly_sced(rows: list[tuple[str, float, str, str, float]]) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the hourly table: hour, intervals, mean LMP per bus, mean MW per unit, summed DR columns."""
    intervals: dict[int, set[float]] = defaultdict(set)
    sums: dict[tuple[int, str], float] = defaultdict(float)
    buses: dict[str, None] = {}
    units: dict[str, None] = {}
    present: set[str] = set()
    for market, time_s, name, quantity, value in rows:
        if market != "sced":
            continue
        hour = int(time_s // 3600)
        intervals[hour].add(time_s)
        if quantity == "lmp":
            buses.setdefault(name)
            sums[(hour, f"lmp:{name}")] += value
        elif quantity == "dispatched":
            units.setdefault(name)
            sums[(hour, f"mw:{name}")] += value
        else:
            present.add(quantity)
            sums[(hour, quantity)] += value
    summed = [(q, title) for q, title in SUMMED if q in present]
    keys = [f"lmp:{b}" for b in buses] + [f"mw:{u}" for u in units] + [q for q, _ in summed]
    header = (["hour", "intervals"] + [f"LMP {b} ($/MWh)" for b in buses] + [f"{u} (MW)" for u in units]
              + [title for _, title in summed])
    table = []
    for hour in sorted(intervals):
        n = len(intervals[hour])
        table.append([f"{hour:02d}:00", n] + [sums.get((hour, k), 0.0) / n for k in keys])
    return header, table


def market_html(path: Path) -> str:
    rows = read_results(path)
    parts = ["<p>What the market decided (<code>market_results.csv</code>, one value a row: "
             "<code>market, time_s, name, quantity, value, unit</code>).</p>"]
    auctions = auction_rows(rows)
    if auctions:
        parts += ["<h3>Capacity auctions (RPM)</h3>",
                  html_table(["delivery year", "cleared at (s)", "clearing price ($/MW-day)", "cleared UCAP (MW)",
                              "DR cleared (MW)"], auctions, numeric={1, 2, 3, 4})]
    header, hourly = hourly_sced(rows)
    if hourly:
        parts += ["<h3>Energy market (SCED), hourly means</h3>",
                  "<p>Each row is the mean over the SCED intervals that start in the hour; every interval is in "
                  "the CSV. PRD cleared is the reduction the SCED cleared on the PRD curves, PRD metered what the "
                  "zones' telemetry reported.</p>",
                  html_table(header, hourly, numeric=set(range(1, len(header))))]
    if not auctions and not hourly:
        parts.append('<p class="note">The market cleared nothing in this run.</p>')
    return "\n".join(parts)
