"""Per-site and per-ZIP DR results (dr_sites.csv, dr_zips.csv): lab 4's question on the sub-zone event.

References come from the scenario's data, not from our output: the sub-zone
event called only ZIP codes 08001 and 08002 of ZB; an EMS sheds between
``curtail_min`` and ``curtail_max`` (25-60 %) of a called site's demand;
each CSP passes ``customer_share`` (70 %) of a positive settlement to its
sites. The per-ZIP table must add up to the per-site one.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

SUBZONE = {"08001", "08002"}


def floats(row, *names):
    return [float(row[n]) for n in names]


def test_every_enrolled_site_has_one_row_and_only_sub_zone_sites_were_called_in_zb(pjm_run):
    sites = pjm_run.table("dr_sites")
    ids = [r["site_id"] for r in sites]
    assert len(ids) == len(set(ids))
    assert 2000 < len(ids) < 3000                               # 3,000 sites less the PRD share (30 %) of ZD
    zb = [r for r in sites if r["zone"] == "ZB"]
    assert {r["zip"] for r in zb if r["called"] == "1"} == SUBZONE
    assert all(r["events"] == "1" for r in zb)                  # the sub-zone event measured every ZB site
    assert all(math.isnan(float(r["baseline_kw"])) for r in sites if r["zone"] == "ZC")   # no event in ZC


def test_called_sites_shed_their_curtailable_share_and_the_others_did_not_curtail(pjm_run):
    zb = [r for r in pjm_run.table("dr_sites") if r["zone"] == "ZB"]
    called = [floats(r, "baseline_kw", "reduction_kw") for r in zb if r["called"] == "1"]
    others = [floats(r, "baseline_kw", "reduction_kw") for r in zb if r["zip"] not in SUBZONE]
    share_called = sum(x for _, x in called) / sum(b for b, _ in called)
    share_others = sum(x for _, x in others) / sum(b for b, _ in others)
    assert 0.25 * 0.8 < share_called < 0.6                     # curtail_min..curtail_max, less baseline error
    assert abs(share_others) < 0.05                             # the CBL's error on a normal day, no curtailment


def test_zip_totals_add_up_the_site_rows_and_credits_are_the_customer_share(pjm_run):
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0] * 5)
    for r in pjm_run.table("dr_sites"):
        key = (r["csp"], r["zone"], r["zip"])
        measured = r["events"] != "0"
        acc = sums[key]
        acc[0] += 1
        acc[1] += int(r["called"])
        acc[2] += float(r["reduction_kw"]) / 1000.0 if measured else 0.0
        acc[3] += float(r["credit_usd"])
    zips = pjm_run.table("dr_zips")
    assert len(zips) == len(sums)
    for z in zips:
        acc = sums[(z["csp"], z["zone"], z["zip"])]
        assert (int(z["sites"]), int(z["called_sites"])) == (acc[0], acc[1])
        assert float(z["reduction_mw"]) == pytest.approx(acc[2], abs=1e-9)
        assert float(z["credit_usd"]) == pytest.approx(acc[3], abs=1e-6)
    net = {r["csp"]: float(r["net_usd"]) for r in pjm_run.table("settlement") if r["event_id"].startswith("day")}
    for csp, usd in net.items():
        credited = sum(float(z["credit_usd"]) for z in zips if z["csp"] == csp)
        assert credited == pytest.approx(0.7 * max(usd, 0.0), rel=1e-9)
