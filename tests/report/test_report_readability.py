"""What a newcomer sees in a report: one-shot values as a table, steps for samples, a paged sequence chart.

The run is the quickstart; what each check expects follows from it (the
capacity auction clears once; SCADA polls; sessions start with MQTT
handshakes).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.report.plots import Series, group_figures, one_shot_values
from cosim.report.sequence import HOUSEKEEPING, MAX_MESSAGES, read_messages, sequence_pages

SCENARIO = Path(__file__).parents[2] / "configs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "quickstart"
    assert main(["run", str(SCENARIO), "--until", "2h", "--out", str(out), "--no-progress"]) == 0
    assert main(["report", str(out)]) == 0
    return out, (out / "report.html").read_text()


def test_values_recorded_once_are_a_table_not_plots(report):
    out, page = report
    with (out / "timeseries.csv").open() as f:
        counts: dict[tuple[str, str], int] = {}
        for row in csv.DictReader(f):
            counts[(row["entity"], row["quantity"])] = counts.get((row["entity"], row["quantity"]), 0) + 1
    once = sorted(q for (e, q), n in counts.items() if n == 1)
    assert once, "the scenario records some values once (the auction's results)"
    table = page.split('id="one-shot-values"', 1)[1].split("</table>", 1)[0]
    plotted = set(re.findall(r'data-quantity="([^"]+)"', page))
    for quantity in once:
        assert f"<td>{quantity}</td>" in table
        if all(counts[(e, q)] == 1 for (e, q) in counts if q == quantity):
            assert quantity not in plotted


def test_series_are_steps_and_one_shot_values_are_left_out():
    series = [Series("a", "p", "MW", (0.0, 900.0, 1800.0), (1.0, 2.0, 1.5)), Series("m", "price", "$", (60.0,), (147.0,))]
    figures = group_figures(series, None)
    assert [f.quantity for f in figures] == ["p"]
    assert one_shot_values(series) == [series[1]]


def test_sequence_chart_is_paged_and_opens_past_the_handshakes(report):
    out, page = report
    messages, problem = read_messages(out / "messages.csv")
    assert problem is None
    pages = sequence_pages(messages, None, None, None)
    assert len(pages.charts) == min(20, -(-len(messages) // MAX_MESSAGES))
    first_page = messages[pages.first * MAX_MESSAGES:(pages.first + 1) * MAX_MESSAGES]
    assert any(m.what not in HOUSEKEEPING for m in first_page)
    assert all(m.what in HOUSEKEEPING for m in messages[:pages.first * MAX_MESSAGES])
    visible = re.findall(r'class="scroll seq-page" data-page="(\d+)">', page)
    hidden = re.findall(r'class="scroll seq-page" data-page="(\d+)" hidden>', page)
    assert visible == [str(pages.first)] and len(hidden) == len(pages.charts) - 1
    assert 'id="seq-select"' in page


def test_report_window_selects_messages(report):
    out, _ = report
    messages, _ = read_messages(out / "messages.csv")
    pages = sequence_pages(messages, 600.0, 900.0, None)
    inside = [m for m in messages if 600.0 <= m.sent_s <= 900.0]
    assert sum(c.svg.count('class="message') for c in pages.charts) == min(len(inside), 20 * MAX_MESSAGES)
