"""market_results.csv of configs/pjm_dr.yaml: what the market decided, one value a row, in the report as tables."""

from __future__ import annotations

from collections import defaultdict

import pytest

from cosim.cli import main

HOUR = 3600.0


def results(pjm_run) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
    found: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in pjm_run.table("market_results"):
        found[(r["market"], r["name"], r["quantity"])].append((float(r["time_s"]), float(r["value"])))
    return found


def test_each_auction_has_its_clearing_price_and_dr_cleared(pjm_run):
    table = results(pjm_run)
    (event,) = pjm_run.events("rpm_cleared")
    assert table[("rpm", "2029/2030", "clearing_price")] == [(120.0, pytest.approx(event["price_usd_per_mw_day"]))]
    assert table[("rpm", "2029/2030", "dr_cleared_ucap")][0][1] == pytest.approx(event["dr_cleared_ucap_mw"])
    # the DR that cleared is the DR resources' rows of the auction's offer table
    dr = sum(float(r["cleared_ucap_mw"]) for r in pjm_run.table("rpm_results") if r["seller"].startswith("csp_"))
    assert table[("rpm", "2029/2030", "dr_cleared_ucap")][0][1] == pytest.approx(dr)


def test_every_sced_interval_has_lmps_dispatch_dr_and_prd(pjm_run):
    table = results(pjm_run)
    lmp_d = table[("sced", "D", "lmp")]
    assert len(lmp_d) == len(pjm_run.series("pjm_market/D", "lmp")) >= 290
    assert lmp_d == [(t, pytest.approx(v)) for t, v in pjm_run.series("pjm_market/D", "lmp")]
    units = {name for (market, name, quantity) in table if market == "sced" and quantity == "dispatched"}
    assert units == {"Alta", "Park City", "Solitude", "Sundance", "Peaker", "Brighton"}
    # the units' dispatch serves the load the SCED saw (no shortage in pjm_dr)
    load = dict(pjm_run.series("pjm_market", "sced_load"))
    for t, _ in lmp_d[::25]:
        served = sum(dict(table[("sced", u, "dispatched")])[t] for u in units)
        dr = sum(dict(table[k]).get(t, 0.0) for k in table if k[2] in ("economic_dr_cleared", "prd_cleared"))
        assert served + dr == pytest.approx(load[t], abs=1e-6 * load[t])
    # economic DR cleared and PRD cleared at D on the hot afternoon, PRD reported metered in ZD
    assert max(v for t, v in table[("sced", "csp_a.econ.D", "economic_dr_cleared")] if t < 18 * HOUR) > 0
    assert max(v for _, v in table[("sced", "D", "prd_cleared")]) > 0
    assert max(v for _, v in table[("sced", "ZD", "prd_metered")]) > 0


def test_the_report_shows_the_market_results_as_tables(pjm_run, tmp_path):
    page = tmp_path / "report.html"
    assert main(["report", str(pjm_run.out), "--out", str(page)]) == 0
    html = page.read_text()
    section = html[html.index('id="market"'):html.index('id="messages"')]
    assert "Capacity auctions" in section and "LMP D ($/MWh)" in section and "economic DR cleared (MW)" in section
    assert section.count("<tr>") >= 1 + 1 + 1 + 24     # auction header + row, hourly header + a day of hours
