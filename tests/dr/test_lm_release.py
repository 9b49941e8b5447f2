"""A Load Management release, end to end, over MQTT DR signals and over OpenADR 2.0b events.

configs/pjm_dr.yaml with two releases at 15:30 (``lm_release``): the ZD call
(pjm_ops-LM1, 14:00-17:00) is ended early while it runs; the ZB call
(pjm_ops-LM2, notified at 15:00 for 16:00) is cancelled before its start, and
its 30-minute lead-time groups, due to be notified at 15:30, never are. The
CSPs' economic DR offers are left out, so a zone's DR response is its Load
Management response alone and must be zero once released.

The PJM rule checked: performance is expected in the 5-minute intervals the
resource was dispatched in (OATT Attachment DD s.10A, Manual 18 s.8.4A); a
release ends the dispatch, so the intervals after it carry no expected
performance, and a dispatch cancelled before its start is not settled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dr_runs import Run, run_variant
from test_openadr_dr import _openadr

RELEASE_S = 15.5 * 3600.0
LM1_END_S = 17.0 * 3600.0
STEP_S = 300.0   # the site population's step: a release acts on receipt, not at the next step


def _variant(openadr: bool) -> Any:
    def edit(raw: dict[str, Any]) -> None:
        raw["events"] += [{"at": "15.5h", "kind": "lm_release", "params": {"event_id": "pjm_ops-LM1"}},
                          {"at": "15.5h", "kind": "lm_release", "params": {"event_id": "pjm_ops-LM2"}}]
        for actor in raw["actors"]:
            for app in actor.get("applications", []):
                if app["kind"] == "csp":
                    app["params"]["economic_offers"] = []
        if openadr:
            _openadr(raw)
    return edit


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    return {name: run_variant(tmp_path_factory.mktemp(f"release_{name}"), _variant(name == "openadr"))
            for name in ("mqtt", "openadr")}


@pytest.mark.parametrize("protocol", ["mqtt", "openadr"])
def test_released_load_returns_at_the_release(runs: dict[str, Run], protocol: str) -> None:
    run = runs[protocol]
    zd = run.series("dr_sites/ZD", "dr_response")
    before = [v for t, v in zd if RELEASE_S - STEP_S <= t <= RELEASE_S]
    assert before and all(v > 10.0 for v in before)          # curtailing up to the release (MW)
    after = [(t, v) for t, v in zd if RELEASE_S < t <= LM1_END_S]
    restored = next(t for t, v in after if v == 0.0)
    assert restored < RELEASE_S + STEP_S                       # on receipt, inside the step the release came in
    assert all(v == 0.0 for t, v in after if t >= restored)   # and stays restored to the call's original end
    # the ZB call was cancelled before its start: its sites never curtailed
    assert all(v == 0.0 for _, v in run.series("dr_sites/ZB", "dr_response"))
    cancelled = [e for e in run.events("lm_dispatch_cancelled") if e["event_id"] == "pjm_ops-LM2"]
    assert cancelled and all(e["lead_time_min"] == 30 for e in cancelled)
    released = {(e["csp"], e["event_id"]) for e in run.events("csp_released_esi")}
    notified = {(e["csp"], e["event_id"]) for e in run.events("lm_dispatch")}
    assert released == notified   # every CSP that got a dispatch got its release


def test_openadr_events_go_cancelled_with_the_modification_number_incremented(runs: dict[str, Run]) -> None:
    statuses: dict[str, list[tuple[str, int]]] = {}
    for e in runs["openadr"].events("openadr_event_status"):
        statuses.setdefault(e["event_id"], []).append((e["status"], e["modification"]))
    lm1 = [v for k, v in statuses.items() if k.startswith("pjm_ops-LM1:")]
    lm2 = [v for k, v in statuses.items() if k.startswith("pjm_ops-LM2:")]
    assert lm1 and all(v == [("far", 0), ("near", 0), ("active", 0), ("cancelled", 1)] for v in lm1)
    assert lm2 and all(v == [("far", 0), ("cancelled", 1)] for v in lm2)


def _settled(run: Run) -> list[dict[str, str]]:
    return [r for r in run.table("settlement") if r["event_id"].startswith("pjm_ops-")]


def test_settlement_counts_only_the_time_curtailed(runs: dict[str, Run]) -> None:
    for run in runs.values():
        rows = _settled(run)
        assert {r["event_id"] for r in rows} == {"pjm_ops-LM1"}   # the cancelled dispatch is not settled
        for r in rows:
            # measured over 14:00-15:30 the groups performed (as in the unreleased run, tests/dr/test_dr_chain.py);
            # measured to 17:00 with load back from 15:30, delivered would be about half the commitment
            assert float(r["delivered_mw"]) == pytest.approx(float(r["committed_mw"]), rel=0.35)


def test_identical_settlement_over_mqtt_and_openadr(runs: dict[str, Run]) -> None:
    """Same release instant, same curtailment, same money.

    The release reaches the sites some tens of ms apart over the two paths
    (one MQTT publish, or a VTN POST and the VEN's ESI signal); at ~21 MW
    curtailed that moves ~1 kWh of the event's ~30 MWh: each payment and
    charge within 1e-4, the net (their difference) within 1e-4 of their sum.
    """
    mqtt = {e["csp"]: e for e in runs["mqtt"].events("csp_settled")}
    openadr = {e["csp"]: e for e in runs["openadr"].events("csp_settled")}
    assert set(mqtt) == set(openadr) == {"csp_a", "csp_b", "csp_c"}
    for csp, a in mqtt.items():
        b = openadr[csp]
        for part in ("capacity_usd", "energy_usd", "charge_usd", "bonus_usd"):
            assert b[part] == pytest.approx(a[part], rel=1e-4), (csp, part)
        gross = a["capacity_usd"] + a["energy_usd"] + a["charge_usd"] + a["bonus_usd"]
        assert b["net_usd"] == pytest.approx(a["net_usd"], abs=1e-4 * gross), csp
    for a, b in zip(_settled(runs["mqtt"]), _settled(runs["openadr"])):
        assert (a["event_id"], a["csp"], a["committed_mw"]) == (b["event_id"], b["csp"], b["committed_mw"])
        assert float(b["delivered_mw"]) == pytest.approx(float(a["delivered_mw"]), rel=1e-4)


def test_a_release_of_an_unknown_or_ended_event_is_logged_and_ignored(tmp_path: Path) -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["run"]["duration"] = "18h"
        raw["events"] = [e for e in raw["events"] if e["at"] == "12h"]
        raw["events"] += [{"at": "11h", "kind": "lm_release", "params": {"event_id": "pjm_ops-LM1"}},
                          {"at": "17.5h", "kind": "lm_release", "params": {"event_id": "pjm_ops-LM1"}}]

    run = run_variant(tmp_path, edit)
    assert [e["reason"] for e in run.events("lm_release_ignored")] == ["unknown event", "already ended"]
    assert not run.events("csp_released_esi")
