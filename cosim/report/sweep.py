"""The report of a whole sweep: each recorded quantity across the swept values, from ``results.csv``.

One figure per domain and quantity of the runs' summaries: a box per
combination of swept values (its seeds' spread), the statistic chosen
(``mean`` by default, or ``max``/``min``/``last_total``) on the y axis. Above
the figures, the runs' status table, so a failed run is seen first.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from .. import __version__
from ..batch.collect import RUN_COLUMNS, SUMMARY_COLUMNS
from .page import STYLE
from .plots import plotly_js
from .tables import html_table

STATISTICS = ("mean", "max", "min", "last_total")


@dataclass(frozen=True)
class SweepTable:
    """``results.csv`` split into its parts: the swept columns, and the rows as dicts."""

    parameters: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def is_sweep_folder(folder: Path) -> bool:
    return (folder / "results.csv").is_file() and not (folder / "manifest.json").is_file()


def read_sweep_table(path: Path) -> SweepTable:
    """Parse a sweep's results table; ValueError naming what is missing if it is not one."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = tuple(dict(row) for row in reader)
    missing = [c for c in (*RUN_COLUMNS, *SUMMARY_COLUMNS) if c not in header]
    if missing:
        raise ValueError(f"{path}: not a sweep results table (no column {', '.join(missing)})")
    parameters = tuple(c for c in header if c not in RUN_COLUMNS and c not in SUMMARY_COLUMNS)
    return SweepTable(parameters, rows)


def combination_label(table: SweepTable, row: dict[str, str]) -> str:
    """``noise_pct=5, noise_pct=10``: the row's swept values, by the last part of each address."""
    if not table.parameters:
        return "(no parameters)"
    return ", ".join(f"{_leaf(p)}={row[p]}" for p in table.parameters)


def render_sweep(folder: Path, statistic: str = "mean") -> str:
    """The sweep report page as text (self-contained, offline)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}")
    import plotly.graph_objects as go
    import plotly.io as pio

    table = read_sweep_table(folder / "results.csv")
    runs: dict[str, dict[str, str]] = {}
    for row in table.rows:
        runs.setdefault(row["run_id"], row)
    status_rows = [[r["run_id"], r["seed"], *(r[p] for p in table.parameters), r["status"], r["error"]] for r in runs.values()]
    status_html = html_table(["run", "seed", *table.parameters, "status", "error"], status_rows)

    groups: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for row in table.rows:
        if row["status"] != "completed" or not row["quantity"]:
            continue
        try:
            value = float(row[statistic])
        except ValueError:
            continue
        key = (row["domain"], row["quantity"], row["unit"])
        groups.setdefault(key, {}).setdefault(combination_label(table, row), []).append(value)
    figures = []
    for i, ((domain, quantity, unit), by_combination) in enumerate(sorted(groups.items())):
        fig = go.Figure()
        for label, values in by_combination.items():
            fig.add_trace(go.Box(y=values, name=label, boxpoints="all", jitter=0.3, pointpos=0))
        title = f"{domain} \u2014 {quantity}: {statistic}" + (f" ({unit})" if unit else "")
        fig.update_layout(title={"text": title, "font": {"size": 14}}, yaxis_title=unit or quantity, height=340,
                          showlegend=False, template="plotly_white", margin={"l": 60, "r": 20, "t": 40, "b": 80})
        div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"sweep-plot-{i}",
                          config={"displaylogo": False, "responsive": True})
        figures.append(f'<div class="plot" role="figure" aria-label="{escape(title)}" data-domain="{escape(domain)}" '
                       f'data-quantity="{escape(quantity)}">{div}</div>')
    completed = sum(r["status"] == "completed" for r in runs.values())
    plots = (f'<div class="plots">{"".join(figures)}</div>' if figures
             else '<p class="note">No completed run recorded anything to compare.</p>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>gridcosim sweep: {escape(folder.name)}</title><style>{STYLE}</style>"
        f"{'<script>' + plotly_js() + '</script>' if figures else ''}</head>\n<body>\n"
        f"<h1>gridcosim sweep: {escape(folder.name)}</h1>\n"
        f"<p>{len(runs)} runs, {completed} completed; swept: {escape(', '.join(table.parameters) or 'seeds only')}. "
        f"Each box is one combination of swept values over its seeds; the y axis is the runs' summary {escape(statistic)}.</p>\n"
        f'<section id="runs"><h2>Runs</h2><div class="scroll">{status_html}</div></section>\n'
        f'<section id="quantities"><h2>Quantities across the sweep</h2>{plots}</section>\n'
        f'<p class="muted">Written by gridcosim {escape(__version__)} on '
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from {escape(str(folder))}.</p>\n</body></html>\n"
    )


def _leaf(address: str) -> str:
    """``actors[home_1].applications[load_profile].params.noise_pct`` -> ``home_1.noise_pct`` (actor and field)."""
    head = address.split(".")[0]
    owner = head[head.index("[") + 1: head.index("]")] if "[" in head and "]" in head else ""
    leaf = address.rsplit(".", 1)[-1]
    return f"{owner}.{leaf}" if owner else leaf
