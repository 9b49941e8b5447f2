"""Assembles the report page: one self-contained HTML file, viewable offline.

Everything is inside the file: styles, the SVG diagram and sequence chart,
the data of every plot and plotly.js itself (about 4.5 MB, included only when
there is something to plot). Sections whose data the run does not have say
so in a line instead of disappearing, so a reader knows what was looked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from .. import __version__
from ..scenario.durations import format_duration
from .branchflows import flow_figure, flow_table_rows, monitored_branches
from .diagram import domain_diagram
from .market import market_html
from .plots import entity_domain, figure_html, group_figures, one_shot_values, plotly_js, read_series
from .rundata import RunData
from .sequence import read_messages, sequence_pages
from .tables import csv_table_html, events_html, html_table

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0 auto; max-width: 1240px; padding: 0 20px 40px; color: #222; }
h1 { font-size: 24px; margin: 24px 0 4px; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
h3 { margin: 22px 0 6px; color: #444; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f6f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #7a5b00; background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 10px; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 8px; }
.plot { border: 1px solid #eee; min-height: 320px; }
.scroll { overflow-x: auto; } nav a { margin-right: 14px; } .muted { color: #777; font-size: 13px; }
"""


@dataclass(frozen=True)
class Window:
    """The message-chart time window in simulated seconds (``None``: open end)."""

    start_s: float | None = None
    end_s: float | None = None


def render(run: RunData, window: Window = Window()) -> str:
    """The whole report page as text."""
    model = run.scenario.model if run.scenario is not None else None
    plots, has_plots = _timeseries_section(run, model)
    sections = [
        ("domains", "Domains and actors", _diagram_section(run)),
        ("summary", "Summary", _summary_section(run)),
        ("timeseries", "Time series", plots),
        ("flows", "Branch flows: market against grid", _flows_section(run)),
        ("market", "Market results", _file_section(run, "market_results.csv", _scroll(market_html),
                                                   "No market results (market_results.csv) in this run.")),
        ("messages", "Message sequence", _messages_section(run, window, model)),
        ("tables", "Other tables", _tables_section(run)),
        ("events", "Event log", _file_section(run, "events.jsonl", events_html, "No event log (events.jsonl) in this run.")),
    ]
    name = run.manifest.get("scenario_name") or run.run_dir.name
    head_script = f"<script>{plotly_js()}</script>" if has_plots else ""
    nav = " ".join(f'<a href="#{key}">{escape(title)}</a>' for key, title, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{escape(title)}</h2>\n{html}\n</section>' for key, title, html in sections)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in run.notes)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>gridcosim report: {escape(str(name))}</title><style>{STYLE}</style>{head_script}</head>\n<body>\n"
        f"<h1>gridcosim report: {escape(str(name))}</h1>\n{_facts(run)}\n{notes}\n<nav>{nav}</nav>\n{body}\n"
        f'<p class="muted">Written by gridcosim {escape(__version__)} on '
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from {escape(str(run.run_dir))}.</p>\n</body></html>\n"
    )


def _facts(run: RunData) -> str:
    m = run.manifest
    rows = [
        ["scenario", m.get("scenario", "?")],
        ["status", m.get("status", "?") + (f" \u2014 {m['error']}" if m.get("error") else "")],
        ["seed", m.get("seed", "?")],
        ["simulated", _duration(m.get("simulated_time_s")) + " of " + _duration(m.get("duration_s"))],
        ["wall time", f"{m['wall_time_s']} s" if "wall_time_s" in m else "?"],
        ["started", m.get("started_utc", "?")],
        ["scenario SHA-256", m.get("scenario_sha256", "?")],
        ["versions", ", ".join(f"{k} {v}" for k, v in sorted((m.get("versions") or {}).items()))],
    ]
    return html_table(["", ""], rows)


def _duration(seconds: object) -> str:
    return format_duration(float(seconds)) if isinstance(seconds, (int, float)) else "?"


def _diagram_section(run: RunData) -> str:
    if run.scenario is None:
        return '<p class="note">No scenario to draw (see the note above).</p>'
    model = run.scenario.model
    return (
        f'<p>{len(model.actors)} actors, {len(model.associations)} associations, laid out as the NIST Smart Grid Conceptual Model '
        "(NIST SP 1108, Figure 3-1). Hover a box or a line for details.</p>"
        f'<div class="scroll">{domain_diagram(model)}</div>'
    )


def _summary_section(run: RunData) -> str:
    path = run.file("summary.csv")
    return csv_table_html(path) if path else '<p class="note">No summary.csv in this run.</p>'


def _timeseries_section(run: RunData, model) -> tuple[str, bool]:
    path = run.file("timeseries.csv")
    if path is None:
        return '<p class="note">No time series (timeseries.csv) in this run.</p>', False
    series = read_series(path)
    figures = group_figures(series, model)
    once = one_shot_values(series)
    if not figures and not once:
        return "<p>The run recorded no samples.</p>", False
    parts = [f"<p>{len(figures)} plots, one per domain and quantity, a line per entity (steps: a sample holds until the next).</p>"]
    if once:
        rows = [[entity_domain(s.entity, model), s.entity, s.quantity, f"{s.times_s[0]:g}", f"{s.values[0]:.6g}", s.unit]
                for s in sorted(once, key=lambda s: (s.entity, s.quantity))]
        parts.append('<h3>Values recorded once</h3><div class="scroll" id="one-shot-values">'
                     + html_table(["domain", "entity", "quantity", "time (s)", "value", "unit"], rows) + "</div>")
    domain = None
    for i, figure in enumerate(figures):
        if figure.domain != domain:
            if domain is not None:
                parts.append("</div>")
            domain = figure.domain
            parts.append(f'<h3>{escape(domain)}</h3><div class="plots">')
        thinned = '<p class="muted">thinned for display; every sample is in timeseries.csv</p>' if figure.thinned else ""
        parts.append(
            f'<div class="plot" role="figure" aria-label="{escape(figure.title)}" data-domain="{escape(figure.domain)}" data-quantity="{escape(figure.quantity)}">'
            f"{figure_html(figure, f'plot-{i}')}{thinned}</div>"
        )
    if figures:
        parts.append("</div>")
    return "\n".join(parts), bool(figures)


def _flows_section(run: RunData) -> str:
    path = run.file("timeseries.csv")
    branches = monitored_branches(read_series(path)) if path is not None else []
    if not branches:
        return '<p class="note">No branch limit enforced by a market in this run.</p>'
    parts = [
        "<p>For each branch the market monitors: the DC flow the SCED priced against the AC flow the grid "
        "carried (active power at the from end) and its loading in percent of the branch rating (MVA). "
        "docs/markets.md states the margin the physical flow may take beyond the market limit.</p>",
        html_table(["branch", "market limit (MW)", "max market flow (MW)", "max grid flow (MW)",
                    "max grid flow (% of limit)", "max loading (% of rating)"], flow_table_rows(branches),
                   numeric={1, 2, 3, 4, 5}),
        '<div class="plots">',
    ]
    for i, branch in enumerate(branches):
        figure = flow_figure(branch)
        parts.append(f'<div class="plot" role="figure" aria-label="{escape(figure.title)}">{figure_html(figure, f"flow-{i}")}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def _messages_section(run: RunData, window: Window, model) -> str:
    path = run.file("messages.csv")
    if path is None:
        return '<p class="note">No message trace (messages.csv) in this run: it has no communication layer, or it was not traced.</p>'
    messages, problem = read_messages(path)
    if problem:
        return f'<p class="note">{escape(problem)}</p>'
    pages = sequence_pages(messages, window.start_s, window.end_s, model)
    return f"<p>{escape(pages.note)}</p>{_paged(pages)}<h3>The whole trace</h3>{csv_table_html(path)}"


def _paged(pages) -> str:
    """The pages of the sequence chart, one shown at a time, with a page selector (works offline, no library)."""
    if not pages.charts:
        return ""
    options = "".join(f'<option value="{i}"{" selected" if i == pages.first else ""}>page {i + 1}: {escape(c.note)}</option>'
                      for i, c in enumerate(pages.charts))
    divs = "".join(f'<div class="scroll seq-page" data-page="{i}"{"" if i == pages.first else " hidden"}>{c.svg}</div>'
                   for i, c in enumerate(pages.charts))
    script = ("<script>function seqShow(k){var n=document.querySelectorAll('.seq-page').length;k=Math.max(0,Math.min(n-1,k));"
              "document.querySelectorAll('.seq-page').forEach(function(d){d.hidden=(+d.dataset.page!==k);});"
              "document.getElementById('seq-select').value=String(k);}</script>")
    controls = ('<p><button type="button" onclick="seqShow(+document.getElementById(\'seq-select\').value-1)">&larr;</button> '
                f'<select id="seq-select" onchange="seqShow(+this.value)">{options}</select> '
                '<button type="button" onclick="seqShow(+document.getElementById(\'seq-select\').value+1)">&rarr;</button></p>')
    return script + controls + divs


def _tables_section(run: RunData) -> str:
    tables = run.extra_tables
    if not tables:
        return "<p>No other tables (outages, market results, link statistics ...) in this run.</p>"
    return "\n".join(f"<h3>{escape(p.stem)}</h3>{csv_table_html(p)}" for p in tables)


def _scroll(render_file):
    """A renderer whose tables scroll sideways (the hourly market table has a column per bus and unit)."""
    return lambda path: f'<div class="scroll">{render_file(path)}</div>'


def _file_section(run: RunData, name: str, render_file, missing: str) -> str:
    path = run.file(name)
    return render_file(path) if path else f'<p class="note">{escape(missing)}</p>'
