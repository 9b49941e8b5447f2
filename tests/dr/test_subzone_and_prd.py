"""Sub-zone dispatch touches only its ZIP codes; PRD reduces load when the LMP crosses the threshold."""

from __future__ import annotations

SUBZONE = {"08001", "08002"}


def test_subzone_dispatch_only_touches_sites_in_its_zips(pjm_run):
    rows = [r for r in pjm_run.table("lm_dispatch") if r["event_id"] == "pjm_ops-LM2"]
    assert rows and all(set(r["subzone_zips"].split()) == SUBZONE for r in rows)
    resources = {rid for r in rows for rid in r["resources"].split()}
    assert resources and all(rid.split(".")[2] in SUBZONE for rid in resources)
    signalled = {e["resource"] for e in pjm_run.events("esi_signal") if e["event_id"] == "pjm_ops-LM2"}
    assert signalled == resources
    # the ESI commands on the wire go only to sub-zone groups
    trace = pjm_run.table("messages")
    topics = {m["info"].split()[1] for m in trace if m["dst"] == "dr_sites" and m["info"].startswith("PUBLISH esi/")}
    zb = {t.rsplit("/", 1)[1] for t in topics if ".ZB." in t}
    assert zb and all(rid.split(".")[2] in SUBZONE for rid in zb)
    perf = [r for r in pjm_run.table("dr_performance") if r["event_id"] == "pjm_ops-LM2"]
    assert perf and all(r["resource_id"].split(".")[2] in SUBZONE for r in perf)


def test_prd_reduces_load_when_the_lmp_crosses_its_threshold(pjm_run):
    lmp = pjm_run.series("pjm_market/D", "lmp")
    prd = pjm_run.series("dr_sites/ZD", "prd_response")
    assert max(v for _, v in lmp) >= 100.0 > min(v for _, v in lmp)
    on = [t for t, v in prd if v > 0]
    assert on, "the afternoon price spike must trigger PRD"

    def last_price_before(t):
        return max((s, v) for s, v in lmp if s <= t)[1]

    # the premises act on the last LMP they received: on only at or above 100 $/MWh
    for t, v in prd:
        if t > 3600 and t < 86400:
            price = last_price_before(t - 60.0)   # published a few network hops earlier
            if v > 0:
                assert price >= 100.0 - 1e-6 or last_price_before(t) >= 100.0 - 1e-6
    assert max(v for _, v in pjm_run.series("pjm_market", "prd_cleared")) > 0
    assert all(v == 0.0 for t, v in prd if t < 6 * 3600)           # cheap night: no PRD
