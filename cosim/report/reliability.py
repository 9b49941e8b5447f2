"""The report of a reliability validation curve: co-simulated indices against switching time and the analytic method.

One job: draw ``reliability_curve.csv`` (written by
``benchmarks/bench_reliability_curve.py``) as one page. For each system and
transformer case, one figure per index (SAIDI, SAIFI sustained, MAIFI
momentary): the analytic method as a line over the switching time, and each
co-simulated communication profile as a point with its 95 % interval, placed
at its *equivalent switching time* (where the analytic SAIDI equals the
co-simulated one). Below, the same numbers as a table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from .. import __version__
from .page import STYLE
from .plots import plotly_js
from .tables import html_table

CURVE_FILE = "reliability_curve.csv"
CURVE_COLUMNS = ("system", "case", "source", "profile", "switching_h", "index", "mean", "lower", "upper", "incidents", "wall_s", "cpu_s")
TITLES = {"saidi_hours_per_year": "SAIDI (h/cust\u00b7yr)", "saifi_per_year": "SAIFI, sustained (int/cust\u00b7yr)",
          "maifi_per_year": "MAIFI, momentary (int/cust\u00b7yr)"}


def is_curve_folder(folder: Path) -> bool:
    return (folder / CURVE_FILE).is_file()


def read_curve(path: Path) -> list[dict[str, str]]:
    """The curve's rows; ValueError naming the missing columns if the file is not one."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CURVE_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name} lacks columns {', '.join(missing)}")
        return list(reader)


def render_curve(folder: Path) -> str:
    """The page as text (self-contained, offline); ValueError if the curve file is malformed."""
    import plotly.graph_objects as go
    import plotly.io as pio

    rows = read_curve(folder / CURVE_FILE)
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["system"], row["case"]), []).append(row)
    figures, tables = [], []
    for g, ((system, case), members) in enumerate(sorted(groups.items())):
        for i, index in enumerate(TITLES):
            fig = go.Figure()
            analytic = sorted((float(r["switching_h"]), float(r["mean"])) for r in members if r["source"] == "analytic" and r["index"] == index)
            if analytic:
                fig.add_trace(go.Scatter(x=[a for a, _ in analytic], y=[b for _, b in analytic], mode="lines", name="analytic"))
            for r in (r for r in members if r["source"] == "cosim" and r["index"] == index):
                mean, lower, upper = float(r["mean"]), float(r["lower"]), float(r["upper"])
                fig.add_trace(go.Scatter(x=[float(r["switching_h"])], y=[mean], mode="markers", name=f"co-sim: {r['profile']}",
                                         error_y={"type": "data", "symmetric": False, "array": [upper - mean], "arrayminus": [mean - lower]}))
            title = f"{system}, transformer {case}: {TITLES[index]}"
            fig.update_layout(title={"text": title, "font": {"size": 14}}, xaxis_title="switching time (h); co-sim at its equivalent",
                              yaxis_title=TITLES[index], height=320, template="plotly_white",
                              margin={"l": 60, "r": 20, "t": 40, "b": 45}, legend={"orientation": "h", "y": -0.3})
            div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"curve-{g}-{i}",
                              config={"displaylogo": False, "responsive": True})
            figures.append(f'<div class="plot" role="figure" aria-label="{escape(title)}">{div}</div>')
        tables.append(html_table(["profile", "index", "mean", "95 % CI", "equivalent switching h", "incidents", "wall s", "CPU s"],
                                 _cosim_rows(members), numeric={2, 4, 5, 6, 7}))
    body = "".join(f"<h3>{escape(s)}, transformer {escape(c)}</h3>{t}" for (s, c), t in zip(sorted(groups), tables))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>gridcosim reliability curve: {escape(folder.name)}</title><style>{STYLE}</style>"
        f"<script>{plotly_js()}</script></head>\n<body>\n"
        f"<h1>gridcosim reliability curve: {escape(folder.name)}</h1>\n"
        "<p>Co-simulated IEEE 1366 indices of each communication profile (points, 95 % intervals) against the analytic "
        "method over the switching time (line). A co-simulated point sits at the switching time at which the analytic "
        "SAIDI equals its own (docs/reliability.md, \u201cValidation curve\u201d).</p>\n"
        f'<section id="curves"><h2>Curves</h2><div class="plots">{"".join(figures)}</div></section>\n'
        f'<section id="points"><h2>Points</h2>{body}</section>\n'
        f'<p class="muted">Written by gridcosim {escape(__version__)} on '
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from {escape(str(folder))}.</p>\n</body></html>\n"
    )


def _cosim_rows(members: Iterable[dict[str, str]]) -> list[list[str]]:
    return [[r["profile"], r["index"], f"{float(r['mean']):.4g}", f"[{float(r['lower']):.4g}, {float(r['upper']):.4g}]",
             f"{float(r['switching_h']):.2f}", r["incidents"], r["wall_s"], r["cpu_s"]]
            for r in members if r["source"] == "cosim"]
