"""The recloser-fuse story of configs/fuse_coordination.yaml: fuse saving on feeder A, fuse blowing on B.

Melting times come from the link's curve (devices/protection/fuse.py, the
OpenDSS T-link curve checked against OpenDSS in test_devices_fuse.py) at the
fault current the grid gives through the cutout; recloser trip times from the
IEEE C37.112 formula at the current through the recloser. A cold link melts
at exactly the curve time; after fast shots its heating memory shortens it by
the damage left after cooling, ``D = sum(shot / t_melt) * exp(-dead / tau)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cosim.scenario import load_scenario
from devices.protection.curves import Curve
from devices.protection.fuse import FuseLinkType, FuseSettings, check_coordination
from devworlds import start, switch_fault_current_a

SCENARIO = Path(__file__).parents[2] / "configs" / "fuse_coordination.yaml"
LINK = FuseSettings(65, FuseLinkType.T, clearing_delay_s=0.02)  # default cooling, as the scenario
IEEE_EI, IEEE_VI = Curve.IEEE_EXTREMELY_INVERSE.curve, Curve.IEEE_VERY_INVERSE.curve


def fast_s(current_a: float) -> float:
    return IEEE_EI.operate_time_s(current_a / 200.0, 0.1)


def delayed_s(current_a: float) -> float:
    return IEEE_VI.operate_time_s(current_a / 200.0, 0.5)


@pytest.fixture(scope="module")
def story():
    run = start(load_scenario(SCENARIO))
    currents = {(sw, br): switch_fault_current_a(run, sw, br) for sw, br in
                [("rec_a", "lat_a"), ("cutout_a", "lat_a"), ("rec_b", "lat_b"), ("cutout_b", "lat_b")]}
    run.run(7200.0)
    return run, currents


def unserved_at(run, time_s: float) -> float:
    value = 0.0
    for t, v in run.series("grid", "customers_unserved"):
        if t <= time_s:
            value = v
    return value


def events_of(run, kind: str, device: str, start_s: float, end_s: float) -> list[dict]:
    return [e for e in run.of_kind(kind) if e["device"] == device and start_s <= e["time_s"] < end_s]


def test_the_scenario_is_coordinated_by_coopers_factor(story):
    _run, currents = story
    i_rec, i_fuse = currents[("rec_a", "lat_a")], currents[("cutout_a", "lat_a")]
    check = check_coordination(LINK, i_fuse, lambda _i: fast_s(i_rec), lambda _i: delayed_s(i_rec), 2)
    assert check.fuse_saving and check.fuse_blowing


def test_fuse_saving_a_temporary_lateral_fault_is_cleared_by_one_fast_shot_and_the_link_survives(story):
    run, currents = story
    trips = events_of(run, "recloser_trip", "recloser_a", 600, 1200)
    assert [t["curve"] for t in trips] == ["fast"]
    assert trips[0]["time_s"] - 600 == pytest.approx(fast_s(currents[("rec_a", "lat_a")]), rel=1e-9)
    assert not events_of(run, "fuse_melted", "fuse_a", 600, 1200)
    (reclose,) = events_of(run, "recloser_reclose", "recloser_a", 600, 1200)
    assert unserved_at(run, reclose["time_s"]) == 0  # everyone back, lateral included


def test_fuse_saving_a_permanent_lateral_fault_melts_the_link_after_the_fast_shots(story):
    run, currents = story
    i_rec, i_fuse = currents[("rec_a", "lat_a")], currents[("cutout_a", "lat_a")]
    trips = events_of(run, "recloser_trip", "recloser_a", 1200, 2400)
    assert [t["curve"] for t in trips] == ["fast", "fast"]  # the delayed shot never trips: the link clears first
    recloses = [r["time_s"] for r in events_of(run, "recloser_reclose", "recloser_a", 1200, 2400)]
    assert [r - t["time_s"] for r, t in zip(recloses, trips)] == pytest.approx([2.0, 5.0])
    # heating memory: damage of two fast shots, cooled over the dead times
    shot, tau = fast_s(i_rec) / LINK.melt_time_s(i_fuse), LINK.cooling_time_constant_s
    damage = (shot * math.exp(-2.0 / tau) + shot) * math.exp(-5.0 / tau)
    (melt,) = events_of(run, "fuse_melted", "fuse_a", 1200, 2400)
    assert melt["melt_time_s"] - recloses[1] == pytest.approx((1 - damage) * LINK.melt_time_s(i_fuse), rel=1e-9)
    (cleared,) = events_of(run, "fuse_cleared", "fuse_a", 1200, 2400)
    assert cleared["clear_time_s"] == pytest.approx(melt["melt_time_s"] + 0.02, rel=1e-12)
    assert cleared["clear_time_s"] - recloses[1] < delayed_s(i_rec)
    assert unserved_at(run, cleared["clear_time_s"]) == 80  # only the lateral
    assert not run.of_kind("recloser_lockout")
    assert unserved_at(run, 2400.0) == 0  # new link in at 40 min


@pytest.mark.parametrize("fault_s", [3000.0, 4800.0], ids=["temporary", "permanent"])
def test_fuse_blowing_the_link_clears_any_lateral_fault_on_its_curve_before_the_recloser(story, fault_s):
    run, currents = story
    i_fuse = currents[("cutout_b", "lat_b")]
    (melt,) = events_of(run, "fuse_melted", "fuse_b", fault_s, fault_s + 600)
    assert melt["melt_time_s"] - fault_s == pytest.approx(LINK.melt_time_s(i_fuse), rel=1e-9)  # cold: the curve
    (cleared,) = events_of(run, "fuse_cleared", "fuse_b", fault_s, fault_s + 600)
    assert cleared["clear_time_s"] - fault_s == pytest.approx(LINK.clear_time_s(i_fuse), rel=1e-9)
    assert cleared["clear_time_s"] - fault_s < delayed_s(currents[("rec_b", "lat_b")])
    assert not events_of(run, "recloser_trip", "recloser_b", 0, 7200)
    assert unserved_at(run, cleared["clear_time_s"]) == 80
    assert unserved_at(run, fault_s + 1200) == 0  # replaced 20 min later
