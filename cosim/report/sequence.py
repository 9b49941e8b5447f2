"""A message sequence chart of the message trace (``messages.csv``) in a chosen time window.

One lifeline per node that sent or received a message in the window, in
NIST domain order when the node is an actor (Operations and Markets left of
the field), and one arrow per message from sender to receiver, top to
bottom in order of sending, labelled with its send time, protocol and
latency. Dropped messages are red, dashed and end in a cross.

The trace's columns belong to the comm layer; they are looked up by name
with a few accepted spellings (``sent_s`` or ``time_sent``, ``src`` or
``source``, ...) and a trace without the essential ones is reported, not
drawn. The window is cut into pages of ``MAX_MESSAGES`` messages (at most
``MAX_PAGES`` of them; the note says when the window held more), and the
page a reader sees first is the first one that carries more than session
housekeeping (connects, subscriptions, keep-alives), so a report does not
open on a screen of handshakes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..nist import Domain, SmartGridModel

MAX_MESSAGES = 150
MAX_PAGES = 20
HOUSEKEEPING = {"connect", "connack", "subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect"}
"""Message kinds that keep a session up rather than carry the application's data."""
COLUMN_NAMES = {
    "sent": ("sent_s", "time_sent_s", "time_sent", "sent", "t_sent"),
    "arrived": ("done_s", "arrived_s", "time_arrived_s", "time_arrived", "arrival_s", "received_s"),
    "src": ("src", "source", "from"),
    "dst": ("dst", "destination", "dest", "to"),
    "protocol": ("protocol", "proto"),
    "status": ("status", "outcome"),
    "dropped": ("dropped",),
    "what": ("kind", "info", "type"),
}
DROPPED_STATUSES = {"dropped", "lost", "failed"}


@dataclass(frozen=True)
class Message:
    sent_s: float
    arrived_s: float | None
    src: str
    dst: str
    protocol: str
    dropped: bool
    what: str


@dataclass(frozen=True)
class Chart:
    """The SVG (empty when there is nothing to draw) and a sentence about what was drawn."""

    svg: str
    note: str


def read_messages(path: Path) -> tuple[list[Message], str | None]:
    """The trace's messages, or a reason why the file cannot be read as a trace."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        column = {role: next((c for c in names if c in header), None) for role, names in COLUMN_NAMES.items()}
        missing = [role for role in ("sent", "src", "dst") if column[role] is None]
        if missing:
            return [], f"messages.csv has no column for {', '.join(missing)} (columns: {', '.join(header)})"
        messages = []
        for row in reader:
            try:
                sent = float(row[column["sent"]])
            except (TypeError, ValueError):
                continue
            arrived = _float(row.get(column["arrived"])) if column["arrived"] else None
            status = (row.get(column["status"]) or "").lower() if column["status"] else ""
            flag = (row.get(column["dropped"]) or "").lower() if column["dropped"] else ""
            dropped = status in DROPPED_STATUSES or flag in {"1", "true", "yes"}
            messages.append(
                Message(sent, arrived, row[column["src"]], row[column["dst"]],
                        row.get(column["protocol"]) or "" if column["protocol"] else "", dropped,
                        row.get(column["what"]) or "" if column["what"] else "")
            )
    messages.sort(key=lambda m: m.sent_s)
    return messages, None


@dataclass(frozen=True)
class Pages:
    """The window's charts, one per page, the page to show first and a sentence about them all."""

    charts: tuple[Chart, ...]
    first: int
    note: str


def sequence_pages(messages: list[Message], start_s: float | None, end_s: float | None, model: SmartGridModel | None) -> Pages:
    """Charts of the messages sent in [start_s, end_s], ``MAX_MESSAGES`` a page (defaults: the whole trace)."""
    if not messages:
        return Pages((), 0, "The message trace is empty.")
    start = messages[0].sent_s if start_s is None else start_s
    window = [m for m in messages if m.sent_s >= start and (end_s is None or m.sent_s <= end_s)]
    if not window:
        return Pages((), 0, f"No message was sent between {start:g} s and {end_s:g} s ({len(messages)} in the trace, "
                            f"from {messages[0].sent_s:g} s to {messages[-1].sent_s:g} s).")
    pages = [window[i:i + MAX_MESSAGES] for i in range(0, min(len(window), MAX_MESSAGES * MAX_PAGES), MAX_MESSAGES)]
    shown = sum(len(p) for p in pages)
    end = end_s if end_s is not None else pages[-1][-1].sent_s
    note = f"{shown} messages sent from {start:g} s to {end:g} s"
    if len(pages) > 1:
        note += f", on {len(pages)} pages of {MAX_MESSAGES}"
    if len(window) > shown:
        note += f" (the first {shown} of {len(window)}; choose the window with --from/--to)"
    dropped = sum(m.dropped for page in pages for m in page)
    note += f"; {dropped} dropped." if dropped else "."
    charts = tuple(Chart(_svg(page, model), f"{page[0].sent_s:g} s to {page[-1].sent_s:g} s") for page in pages)
    first = next((i for i, page in enumerate(pages) if any(m.what not in HOUSEKEEPING for m in page)), 0)
    return Pages(charts, first, note)


def sequence_chart(messages: list[Message], start_s: float | None, end_s: float | None, model: SmartGridModel | None) -> Chart:
    """The first page of :func:`sequence_pages` (for one picture of a short window)."""
    pages = sequence_pages(messages, start_s, end_s, model)
    return Chart(pages.charts[0].svg if pages.charts else "", pages.note)


def _svg(messages: list[Message], model: SmartGridModel | None) -> str:
    nodes = _lifelines(messages, model)
    col_w, left, top, row_h = 150.0, 140.0, 50.0, 26.0
    x = {node: left + i * col_w for i, node in enumerate(nodes)}
    width = left + (len(nodes) - 1) * col_w + 110
    height = top + len(messages) * row_h + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence-chart" viewBox="0 0 {width:g} {height:g}" width="{width:g}" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#1f6fc5"/></marker></defs>',
    ]
    for node, nx in x.items():
        parts.append(f'<text x="{nx:g}" y="20" text-anchor="middle" font-weight="bold">{escape(node)}</text>')
        parts.append(f'<line x1="{nx:g}" y1="28" x2="{nx:g}" y2="{height - 10:g}" stroke="#999" stroke-dasharray="3 3"/>')
    for i, m in enumerate(messages):
        y = top + i * row_h
        x1, x2 = x[m.src], x[m.dst]
        latency = f", {1000 * (m.arrived_s - m.sent_s):.1f} ms" if m.arrived_s is not None and not m.dropped else ""
        label = f"{m.protocol} {m.what}".strip()
        tip = f"t={m.sent_s:g} s {m.src} \u2192 {m.dst} {label}{latency}{' DROPPED' if m.dropped else ''}"
        parts.append(f'<text x="8" y="{y + 12:g}" fill="#555">{m.sent_s:.3f} s</text>')
        if m.dropped:
            xe = x1 + (x2 - x1) * 0.6
            parts.append(
                f'<g class="message dropped"><title>{escape(tip)}</title><line x1="{x1:g}" y1="{y + 8:g}" x2="{xe:g}" y2="{y + 14:g}" '
                f'stroke="#d62728" stroke-width="1.5" stroke-dasharray="5 3"/>'
                f'<text x="{xe:g}" y="{y + 18:g}" fill="#d62728" font-size="14" text-anchor="middle">\u00d7</text></g>'
            )
        else:
            parts.append(
                f'<g class="message"><title>{escape(tip)}</title><line x1="{x1:g}" y1="{y + 8:g}" x2="{x2:g}" y2="{y + 16:g}" '
                f'stroke="#1f6fc5" stroke-width="1.3" marker-end="url(#arrow)"/></g>'
            )
        text_x = (x1 + x2) / 2 if x1 != x2 else x1 + 40
        parts.append(f'<text x="{text_x:g}" y="{y + 5:g}" text-anchor="middle" fill="#333">{escape(label[:40])}{escape(latency)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _lifelines(messages: list[Message], model: SmartGridModel | None) -> list[str]:
    """Nodes in NIST domain order where known (information domains first), else first appearance."""
    seen: list[str] = []
    for m in messages:
        for node in (m.src, m.dst):
            if node not in seen:
                seen.append(node)
    if model is None:
        return seen
    domain_of = {a.actor_id: a.domain for a in model.actors}
    rank = {d: i for i, d in enumerate((Domain.MARKETS, Domain.SERVICE_PROVIDER, Domain.OPERATIONS, Domain.BULK_GENERATION,
                                        Domain.TRANSMISSION, Domain.DISTRIBUTION, Domain.CUSTOMER))}

    def key(node: str) -> tuple[int, int]:
        domain = domain_of.get(node) or domain_of.get(node.split("/")[0])
        return (rank[domain] if domain else len(rank), seen.index(node))

    return sorted(seen, key=key)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
