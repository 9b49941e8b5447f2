"""HTML tables for the report: summary.csv, any other table a layer wrote, the event log.

Generic on purpose: an outage table, a market clearing table or the link
statistics of the comm layer show up without code for each. A small table
is shown whole; a large one as its size, per-column statistics (numeric
columns: min, mean, max; text columns: the most frequent values) and its
first rows.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any, Iterable, Sequence

FULL_TABLE_ROWS = 60
HEAD_ROWS = 15
MAX_EVENTS = 400


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(_fmt(v))}</td>' if i in numeric else f"<td>{escape(str(v))}</td>" for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, [row for row in reader if row]


def csv_table_html(path: Path) -> str:
    """A CSV file as a table, or as a summary of it when it is large."""
    header, rows = read_csv(path)
    numeric = {i for i in range(len(header)) if _all_numeric(row[i] for row in rows if i < len(row))}
    if len(rows) <= FULL_TABLE_ROWS:
        return f"<p>{len(rows)} rows.</p>" + html_table(header, rows, numeric)
    stats = []
    for i, name in enumerate(header):
        values = [row[i] for row in rows if i < len(row) and row[i] != ""]
        if i in numeric and values:
            numbers = [float(v) for v in values]
            finite = [v for v in numbers if math.isfinite(v)]
            mean = sum(finite) / len(finite) if finite else math.nan
            stats.append([name, len(values), min(numbers), mean, max(numbers), ""])
        else:
            common = ", ".join(f"{v} ({n})" for v, n in Counter(values).most_common(4))
            stats.append([name, len(values), "", "", "", common])
    return (
        f"<p>{len(rows):,} rows; per column:</p>"
        + html_table(["column", "values", "min", "mean", "max", "most frequent"], stats, {2, 3, 4})
        + f"<p>First {HEAD_ROWS} rows:</p>"
        + html_table(header, rows[:HEAD_ROWS], numeric)
    )


def events_html(path: Path) -> str:
    """The event log: counts by kind, then the events (the first ``MAX_EVENTS``)."""
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a half-written last line
    if not events:
        return "<p>No events were logged.</p>"
    counts = Counter(str(e.get("kind", "?")) for e in events)
    rows = []
    for event in events[:MAX_EVENTS]:
        details = {k: v for k, v in event.items() if k not in ("time_s", "kind")}
        rows.append([event.get("time_s", ""), event.get("kind", ""), ", ".join(f"{k}={_fmt(v)}" for k, v in details.items())])
    more = f"<p>Showing the first {MAX_EVENTS} of {len(events):,} events.</p>" if len(events) > MAX_EVENTS else ""
    return (
        html_table(["kind", "events"], sorted(counts.items()), {1})
        + more
        + html_table(["time (s)", "kind", "details"], rows, {0})
    )


def _all_numeric(values: Iterable[str]) -> bool:
    seen = False
    for value in values:
        if value == "":
            continue
        try:
            float(value)
        except ValueError:
            return False
        seen = True
    return seen


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return value if number.is_integer() and "." not in value and "e" not in value.lower() else f"{number:.6g}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)
