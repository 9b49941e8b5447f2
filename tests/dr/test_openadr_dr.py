"""The DR chain over OpenADR 2.0b: lab 4 (configs/labs/lab4_dr.yaml) with its notification switch on openadr.

Lab 4 is configs/pjm_dr.yaml under another name (tests/dr/test_plants_follow_market.py).
Its one switch (``protocol: &dr_protocol``) makes every CSP a VTN and wakes
each CSP's VEN on the sites' node. The same calls reach the same sites whether
the CSP publishes MQTT DR signals or distributes OpenADR events (built and
schema-checked by openleadr), so the curtailment, and with it M&V and
settlement, is the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cosim.runner import run_scenario
from cosim.scenario import load_scenario
from dr_runs import CONFIGS, Run, run_variant

CSPS = ("csp_a", "csp_b", "csp_c")
LAB4 = CONFIGS / "labs" / "lab4_dr.yaml"
SWITCH = "protocol: &dr_protocol mqtt"


def _openadr(raw: dict[str, Any], ven_nodes: dict[str, str] | None = None) -> None:
    """The switch on openadr, as the YAML anchor would set it; a CSP's VEN moved to ``ven_nodes[csp]`` if given."""
    for actor in raw["actors"]:
        for app in actor.get("applications", []):
            if app["kind"] == "csp":
                app["params"]["protocol"] = "openadr"
    for device in raw["devices"]:
        if device["kind"] == "openadr_ven":
            device["params"] = {**device["params"], "protocol": "openadr"}
            device["node"] = (ven_nodes or {}).get(device["params"]["csp"], device["node"])


def run_lab4_over_openadr(tmp: Path) -> Run:
    """Lab 4 as a student runs it after flipping its one switch (the text of the file, one word changed)."""
    text = LAB4.read_text()
    assert text.count(SWITCH) == 1 and text.count("case: ../pjm5bus_sced.yaml") == 1
    path = tmp / "lab4_openadr.yaml"
    path.write_text(text.replace(SWITCH, "protocol: &dr_protocol openadr")
                    .replace("case: ../pjm5bus_sced.yaml", f"case: {CONFIGS / 'pjm5bus_sced.yaml'}"))
    run_scenario(load_scenario(path), tmp / "out")
    return Run(tmp / "out")


@pytest.fixture(scope="module")
def openadr_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_lab4_over_openadr(tmp_path_factory.mktemp("lab4_openadr"))


def test_the_switch_as_shipped_leaves_the_vens_idle(pjm_run: Run) -> None:
    assert not [r for r in pjm_run.table("messages") if r["protocol"] == "openadr"]
    assert not [e for e in pjm_run.events() if e["kind"].startswith("openadr_")]


def _signals(run: Run) -> list[tuple[Any, ...]]:
    return sorted((e["resource"], e["event_id"], e["start_s"], e["end_s"], e["reduction_pct"])
                  for e in run.events("esi_signal"))


def test_same_calls_reach_the_same_site_groups(pjm_run: Run, openadr_run: Run) -> None:
    mqtt, openadr = _signals(pjm_run), _signals(openadr_run)
    assert len(openadr) == len(mqtt) > 0
    # Load Management calls carry their notified start and end: identical, to the bit
    assert [s for s in openadr if s[1].startswith("pjm_ops-")] == [s for s in mqtt if s[1].startswith("pjm_ops-")]
    # economic instructions start on receipt: their arrival (ms over another path) may differ; their end is the
    # SCED's time plus the hold, carried as an xCal date-time to the microsecond (relative 1e-10 is 3 µs at 9 h)
    assert [(s[0], s[1], s[4]) for s in openadr] == [(s[0], s[1], s[4]) for s in mqtt]
    assert [s[3] for s in openadr] == pytest.approx([s[3] for s in mqtt], rel=1e-10)


def test_same_curtailment_and_settlement(pjm_run: Run, openadr_run: Run) -> None:
    responding = []
    for zone in ("ZB", "ZC", "ZD"):   # at the sites' 5-minute steps (a call received within a step acts at once)
        mqtt = {t: v for t, v in pjm_run.series(f"dr_sites/{zone}", "dr_response") if t % 300 == 0}
        openadr = {t: v for t, v in openadr_run.series(f"dr_sites/{zone}", "dr_response") if t % 300 == 0}
        assert mqtt.keys() == openadr.keys()
        if any(v > 0 for v in mqtt.values()):
            responding.append(zone)
        assert [openadr[t] for t in sorted(mqtt)] == pytest.approx([mqtt[t] for t in sorted(mqtt)], rel=1e-9)
    assert responding == ["ZB", "ZD"]   # the two Load Management calls (and ZD's economic DR)
    settled = {e["csp"]: e["net_usd"] for e in pjm_run.events("csp_settled")}
    assert {e["csp"]: e["net_usd"] for e in openadr_run.events("csp_settled")} == pytest.approx(settled, rel=1e-6)


def test_events_go_far_near_active_completed_and_the_vens_opt_in(openadr_run: Run) -> None:
    registered = {e["ven"]: e["resources"] for e in openadr_run.events("openadr_registered")}
    assert set(registered) == {f"ven_{c}" for c in CSPS} and all(n > 0 for n in registered.values())
    statuses: dict[str, list[str]] = {}
    for e in openadr_run.events("openadr_event_status"):
        statuses.setdefault(e["event_id"], []).append(e["status"])
    lm1 = [k for k in statuses if k.startswith("pjm_ops-LM1:")]
    assert lm1, "the ZD Load Management call reached the VENs as events"
    # notified at 12:00 for 14:00 (120 min lead time): far, near 10 min before, active, completed at the end
    assert all(statuses[k] == ["far", "near", "active", "completed"] for k in lm1)
    created = openadr_run.events("openadr_created_event")
    assert created and all(e["opt_in"] for e in created)
    assert not openadr_run.events("openadr_opt_out") and not openadr_run.events("openadr_no_answer")
    kinds = {(r["protocol"], r["kind"]) for r in openadr_run.table("messages") if r["protocol"] == "openadr"}
    assert kinds == {("openadr", "POST"), ("openadr", "200 OK")}
    # telemetry: the metered kW of each group with an active event, as the sites' meters measure it (curtailed)
    metered = [r for r in openadr_run.table("timeseries") if r["quantity"] == "metered_kw"]
    assert metered and all(float(r["value"]) > 0 for r in metered)
    assert {r["entity"].split("/")[2] for r in metered} <= {k.rpartition(":")[2] for k in statuses}


def test_a_ven_whose_node_has_no_esi_opts_out_with_its_reason(tmp_path) -> None:
    """csp_b's VEN misplaced on a node of its own: its events are refused, with the reason, and its sites never curtail."""
    def edit(raw: dict[str, Any]) -> None:
        raw["run"]["duration"] = "15h"     # past the ZD call's start at 14:00
        raw["events"] = [e for e in raw["events"] if e["at"] == "12h"]
        raw["comm"]["nodes"].append({"id": "csp_b_sites", "actor": "dr_sites"})
        raw["comm"]["links"].append({"a": "csp_b_sites", "b": "pjm_broker", "profile": "lte"})
        _openadr(raw, {"csp_b": "csp_b_sites"})

    run = run_variant(tmp_path, edit)
    outs = run.events("openadr_opt_out")
    assert outs and {e["ven"] for e in outs} == {"ven_csp_b"}
    assert all("no ESI on node csp_b_sites takes esi/csp_b/" in e["reason"] for e in outs)
    refused = [e for e in run.events("openadr_created_event") if not e["opt_in"]]
    assert {(e["event_id"], e["reason"]) for e in refused} == {(e["event_id"], e["reason"]) for e in outs}
    signalled = {e["resource"].split(".")[0] for e in run.events("esi_signal")}
    assert "csp_a" in signalled and "csp_b" not in signalled
