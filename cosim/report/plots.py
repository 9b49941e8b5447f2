"""Time-series plots of whatever a run recorded, one figure per domain and quantity.

Generic over the tidy ``timeseries.csv`` (``time_s, entity, quantity, value,
unit``): a layer that starts recording a new quantity gets its figure
without a change here. An entity's domain is the domain of the actor it
names (``home_1``) or prefixes (``home_1/meter``) or owns on the grid,
exactly as ``summary.csv`` groups it.

A recorded sample holds until the next one (a discrete-event run changes
nothing in between), so traces are drawn as steps, with markers when they are
sparse; a value recorded once (a clearing price, a bill) is not a plot but a
row of the table :func:`one_shot_values` returns.

A quantity named ``<q>_baseline`` is drawn dashed in the figure of ``<q>``
(e.g. a DR response against its customer baseline). Traces longer than
``MAX_POINTS`` are thinned by an even stride -- the report says so -- to
keep the page light; the CSV keeps every sample.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..nist import Domain, SmartGridModel
from ..summary import OTHER, domain_map
from ..summary import entity_domain as summary_entity_domain

MAX_POINTS = 2000
MARKERS_BELOW = 60
"""Traces with fewer points than this show a marker at each sample."""
BASELINE_SUFFIX = "_baseline"


@dataclass(frozen=True)
class Series:
    entity: str
    quantity: str
    unit: str
    times_s: tuple[float, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Figure:
    """One plot: a domain's quantity, with a trace per entity (and baselines dashed)."""

    domain: str
    quantity: str
    unit: str
    series: tuple[Series, ...]
    thinned: bool

    @property
    def title(self) -> str:
        return f"{self.domain} \u2014 {self.quantity} ({self.unit})" if self.unit else f"{self.domain} \u2014 {self.quantity}"


def read_series(path: Path) -> list[Series]:
    """Every (entity, quantity) series of a tidy timeseries CSV, in order of first appearance."""
    columns: dict[tuple[str, str], tuple[str, list[float], list[float]]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                time_s, value = float(row["time_s"]), float(row["value"])
            except (KeyError, TypeError, ValueError):
                continue  # a half-written last line of a run cut short
            key = (row.get("entity") or "", row.get("quantity") or "")
            if key not in columns:
                columns[key] = (row.get("unit") or "", [], [])
            columns[key][1].append(time_s)
            columns[key][2].append(value)
    return [Series(e, q, unit, tuple(t), tuple(v)) for (e, q), (unit, t, v) in columns.items()]


def one_shot_values(series: list[Series]) -> list[Series]:
    """The series recorded exactly once: values, not curves."""
    return [s for s in series if len(s.times_s) == 1]


def group_figures(series: list[Series], model: SmartGridModel | None) -> list[Figure]:
    """Figures ordered by domain (NIST order) then quantity; baselines joined to their quantity.

    Series recorded once are left out (see :func:`one_shot_values`).
    """
    series = [s for s in series if len(s.times_s) > 1]
    domain_of: dict[str, str] = {}
    groups: dict[tuple[str, str, str], list[Series]] = {}
    quantities = {(s.quantity, s.unit) for s in series}
    for item in series:
        if item.entity not in domain_of:
            domain_of[item.entity] = entity_domain(item.entity, model)
        domain = domain_of[item.entity]
        quantity = item.quantity
        base = quantity[: -len(BASELINE_SUFFIX)] if quantity.endswith(BASELINE_SUFFIX) else None
        if base and (base, item.unit) in quantities:
            quantity = base
        groups.setdefault((domain, quantity, item.unit), []).append(item)
    order = {d.value: i for i, d in enumerate(Domain)}
    figures = []
    for (domain, quantity, unit), members in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1], kv[0][2])):
        thinned = any(len(s.times_s) > MAX_POINTS for s in members)
        figures.append(Figure(domain, quantity, unit, tuple(_thin(s) for s in members), thinned))
    return figures


def entity_domain(entity: str, model: SmartGridModel | None) -> str:
    """The domain an entity's chart belongs to, by the same rule as ``summary.csv`` (:mod:`cosim.summary`)."""
    if model is None:
        return OTHER
    return summary_entity_domain(entity, domain_map(model))


def _thin(series: Series) -> Series:
    n = len(series.times_s)
    if n <= MAX_POINTS:
        return series
    stride = -(-n // MAX_POINTS)
    keep = list(range(0, n, stride))
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return Series(series.entity, series.quantity, series.unit, tuple(series.times_s[i] for i in keep), tuple(series.values[i] for i in keep))


def figure_html(figure: Figure, div_id: str) -> str:
    """The plot as a ``<div>`` plus the script that draws it (plotly.js is included once by the page)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    hours = max((max(s.times_s) for s in figure.series if s.times_s), default=0.0) >= 3 * 3600
    scale, axis = (3600.0, "simulated time (h)") if hours else (1.0, "simulated time (s)")
    fig = go.Figure()
    for s in figure.series:
        baseline = s.quantity.endswith(BASELINE_SUFFIX) and s.quantity != figure.quantity
        fig.add_trace(
            go.Scatter(
                x=[t / scale for t in s.times_s],
                y=list(s.values),
                mode="lines+markers" if len(s.times_s) < MARKERS_BELOW else "lines",
                name=f"{s.entity} (baseline)" if baseline else s.entity,
                line={"shape": "hv", "dash": "dash"} if baseline else {"shape": "hv"},
            )
        )
    fig.update_layout(
        title={"text": figure.title, "font": {"size": 14}},
        xaxis_title=axis,
        yaxis_title=figure.unit or figure.quantity,
        height=320,
        margin={"l": 60, "r": 20, "t": 40, "b": 45},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config={"displaylogo": False, "responsive": True})


def plotly_js() -> str:
    """plotly.js itself, inlined in the page so the report needs no network."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
