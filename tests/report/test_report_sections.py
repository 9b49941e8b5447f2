"""The report's parts: NIST diagram, plot grouping, sequence chart, generic tables, the command."""

import csv
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.comm.trace import TRACE_COLUMNS
from cosim.nist import Actor, AssociationKind, Domain, SmartGridModel
from cosim.report.diagram import domain_diagram
from cosim.report.plots import MAX_POINTS, Series, group_figures
from cosim.report.sequence import read_messages, sequence_chart
from cosim.scenario import load_scenario

QUICKSTART = Path(__file__).parents[1] / "batch" / "small_scenario.yaml"  # fixed copy of the early quickstart
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "quickstart"
    assert main(["run", str(QUICKSTART), "--until", "6h", "--out", str(out), "--no-progress"]) == 0
    return out


def test_diagram_has_seven_regions_in_nist_rows_and_two_line_styles():
    model = load_scenario(QUICKSTART).model
    svg = ET.fromstring(domain_diagram(model))  # well-formed XML
    regions = {g.get("data-domain"): g.find(f"{SVG}rect") for g in svg.iter(f"{SVG}g") if g.get("class") == "domain"}
    assert set(regions) == {d.value for d in Domain}
    top = {d for d, r in regions.items() if float(r.get("y")) < 100}
    assert top == {"Markets", "Operations", "Service Provider"}
    xs = [float(regions[d].get("x")) for d in ("Bulk Generation", "Transmission", "Distribution", "Customer")]
    assert xs == sorted(xs)
    actors = [g.get("data-actor") for g in svg.iter(f"{SVG}g") if g.get("class") == "actor"]
    assert sorted(actors) == sorted(a.actor_id for a in model.actors)
    lines = [l for l in svg.iter(f"{SVG}line") if "association" in (l.get("class") or "")]
    electrical = [l for l in lines if "electrical" in l.get("class")]
    communication = [l for l in lines if "communication" in l.get("class")]
    assert len(electrical) == sum(a.kind is AssociationKind.ELECTRICAL for a in model.associations) == 6
    assert len(communication) == 9
    assert all(l.get("stroke-dasharray") is None for l in electrical)
    assert all(l.get("stroke-dasharray") for l in communication)


def test_plots_group_by_domain_and_quantity_and_join_baselines():
    model = SmartGridModel((Actor("csp", Domain.SERVICE_PROVIDER, "CSP", "csp"), Actor("h1", Domain.CUSTOMER, "Home", "h1")), ())
    long = tuple(float(t) for t in range(3 * MAX_POINTS))
    series = [
        Series("h1", "demand_p", "kW", (0.0, 1.0), (1.0, 2.0)),
        Series("h1/meter", "demand_p_baseline", "kW", (0.0, 1.0), (1.5, 1.5)),
        Series("csp", "price", "$/MWh", long, long),
        Series("feeder_x", "vm", "pu", (0.0, 1.0), (1.0, 0.99)),
        Series("feeder_x", "trips", "", (5.0,), (1.0,)),  # recorded once: a table row, not a plot
    ]
    figures = group_figures(series, model)
    assert [(f.domain, f.quantity) for f in figures] == [("Customer", "demand_p"), ("Service Provider", "price"), ("(other)", "vm")]
    assert [s.quantity for s in figures[0].series] == ["demand_p", "demand_p_baseline"]
    assert figures[1].thinned and len(figures[1].series[0].times_s) <= MAX_POINTS + 1
    assert figures[1].series[0].times_s[-1] == long[-1]


def write_trace(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, TRACE_COLUMNS)
        writer.writeheader()
        for i, (src, dst, sent, done, status) in enumerate(rows):
            writer.writerow({"msg_id": i, "protocol": "modbus", "kind": "request", "src": src, "dst": dst, "size_bytes": 12,
                             "sent_s": sent, "done_s": done, "status": status, "reason": "", "hops": 1, "path": "", "info": ""})


def test_sequence_chart_window_order_and_drops(tmp_path):
    write_trace(tmp_path / "messages.csv", [
        ("home_1", "control_centre", 5.0, 5.02, "delivered"),
        ("control_centre", "home_1", 1.0, 1.01, "delivered"),
        ("control_centre", "dx_substation", 2.0, 2.5, "dropped"),
        ("iso_market", "control_centre", 50.0, 50.1, "delivered"),
    ])
    messages, problem = read_messages(tmp_path / "messages.csv")
    assert problem is None and [m.sent_s for m in messages] == [1.0, 2.0, 5.0, 50.0]
    model = load_scenario(QUICKSTART).model
    chart = sequence_chart(messages, 0.0, 10.0, model)
    assert chart.note == "3 messages sent from 0 s to 10 s; 1 dropped."
    svg = ET.fromstring(chart.svg)
    heads = [t.text for t in svg.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert heads == ["control_centre", "dx_substation", "home_1"]  # Operations before the field, in NIST order
    groups = [g.get("class") for g in svg.iter(f"{SVG}g")]
    assert groups == ["message", "message dropped", "message"]
    assert "No message was sent between 60 s and 70 s" in sequence_chart(messages, 60.0, 70.0, model).note


def test_trace_without_essential_columns_is_reported(tmp_path):
    (tmp_path / "messages.csv").write_text("a,b\n1,2\n")
    messages, problem = read_messages(tmp_path / "messages.csv")
    assert messages == [] and "no column for sent, src, dst" in problem


def test_report_command_writes_a_self_contained_page(run_dir, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    write_trace(folder / "messages.csv", [("control_centre", "tx_substation", 60.0 * i, 60.0 * i + 0.01, "delivered") for i in range(300)])
    (folder / "outages.csv").write_text("feeder,start_s,end_s,customers\nf1,100,460,120\nf2,900,1000,35\n")
    assert main(["report", str(folder), "--from", "10min", "--to", "20min"]) == 0
    assert f"Report: {folder / 'report.html'}" in capsys.readouterr().out
    page = (folder / "report.html").read_text()
    for words in ("Domains and actors", 'class="nist-diagram"', "Customer \u2014 demand_p (kW)", "11 messages sent from 600 s to 1200 s",
                  "<h3>outages</h3>", "f1", "domain_started", "<td>completed</td>"):
        assert words in page, words
    ours = page[: page.index("<script>")] + page[page.index("</script>") :]  # without the inlined plotly.js
    assert "plotly.min.js" not in page and not re.search(r"""(src|href)=["']https?:""", ours)  # nothing fetched from the network
    assert page.count('class="plot"') == 5


def test_missing_pieces_become_notes(run_dir, tmp_path, capsys):
    folder = tmp_path / "bare"
    folder.mkdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "scenario": "gone/nowhere.yaml"}))
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "scenario file not found (gone/nowhere.yaml); give it with --scenario" in out
    page = (folder / "report.html").read_text()
    assert "No time series (timeseries.csv)" in page and "No message trace" in page
    assert "plotly" not in page.lower()[:2000]  # no plot, no 4.5 MB of plotly.js
    assert main(["report", str(folder), "--scenario", str(QUICKSTART)]) == 0
    assert "has changed since the run" not in capsys.readouterr().out


def test_not_a_results_folder_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path}: not a results folder: it has no manifest.json", f"{tmp_path / 'nope'}: no such results folder"]


def test_report_of_a_sweep_run_uses_its_scenario_copy(tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: r\nscenario: {QUICKSTART}\nparameters:\n  run.duration: [1h]\nseeds: [4]\n")
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    (run,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert main(["report", str(run)]) == 0
    assert "note:" not in capsys.readouterr().out
    assert 'class="nist-diagram"' in (run / "report.html").read_text()
