import pytest

from cosim.markets.dispatch import LmRegistration, ReserveShortfall, select_load_management
from cosim.markets.rules import DrType as T, LeadTime as L

REGS = [
    LmRegistration("CSP-A", "a30", T.PRE_EMERGENCY, "PECO", "19103", L.MIN_30, 40.0),
    LmRegistration("CSP-B", "b30", T.PRE_EMERGENCY, "PECO", "19380", L.MIN_30, 25.0),
    LmRegistration("CSP-A", "a60", T.PRE_EMERGENCY, "PECO", "19103", L.MIN_60, 30.0),
    LmRegistration("CSP-C", "c120", T.PRE_EMERGENCY, "PECO", "19103", L.MIN_120, 100.0),
    LmRegistration("CSP-B", "be30", T.EMERGENCY, "PECO", "19103", L.MIN_30, 80.0),
    LmRegistration("CSP-C", "other", T.PRE_EMERGENCY, "BGE", "21201", L.MIN_30, 500.0),
]


def test_lead_time_must_fit_notice_and_longest_fitting_goes_first():
    plan = select_load_management(REGS, ReserveShortfall(50.0, "PECO", start_s=7200.0, notice_min=60))
    # 120-min DR cannot make it; 60-min group first (30 MW), then the 30-min group (65 MW).
    assert [(i.csp, i.lead_time) for i in plan.instructions] == [
        ("CSP-A", L.MIN_60), ("CSP-A", L.MIN_30), ("CSP-B", L.MIN_30)]
    assert plan.dispatched_mw == pytest.approx(95.0) and plan.uncovered_mw == 0.0
    first = plan.instructions[0]
    assert first.notify_at_s == 7200.0 - 3600.0 and first.start_s == 7200.0 and first.zone == "PECO"


def test_pre_emergency_before_emergency_and_emergency_only_when_declared():
    plan = select_load_management(REGS, ReserveShortfall(200.0, "PECO", 1800.0, notice_min=30))
    assert {i.dr_type for i in plan.instructions} == {T.PRE_EMERGENCY}
    assert plan.uncovered_mw == pytest.approx(200.0 - 65.0)
    plan = select_load_management(REGS, ReserveShortfall(200.0, "PECO", 1800.0, 30, emergency_declared=True))
    assert [i.dr_type for i in plan.instructions][-1] is T.EMERGENCY
    assert plan.dispatched_mw == pytest.approx(145.0)


def test_subzone_selects_by_zip_code():
    sub = frozenset({"19103"})
    plan = select_load_management(REGS, ReserveShortfall(10.0, "PECO", 1800.0, 30, subzone_zips=sub))
    (only,) = plan.instructions
    assert only.resource_ids == ("a30",) and only.subzone_zips == sub


def test_product_availability_is_enforced_at_dispatch_with_a_reason():
    from cosim.markets.dispatch import CallCalendar
    from cosim.markets.rules import ResourceType as P

    regs = [LmRegistration("CSP-A", "cp", T.PRE_EMERGENCY, "PECO", "19103", L.MIN_30, 10.0),
            LmRegistration("CSP-B", "lim", T.PRE_EMERGENCY, "PECO", "19103", L.MIN_30, 10.0, P.LIMITED)]
    shortfall = ReserveShortfall(50.0, "PECO", 1800.0, notice_min=30)
    july_afternoon = CallCalendar(7, True, 14.0, 17.0)
    plan = select_load_management(regs, shortfall, july_afternoon)
    assert plan.dispatched_mw == pytest.approx(20.0) and not plan.refused
    # Limited DR: June-September weekdays, 12-20 h, at most 6 h a call and 10 calls a year
    for calendar, calls, words in [
        (CallCalendar(1, True, 14.0, 17.0), 0, "month 1"),
        (CallCalendar(7, False, 14.0, 17.0), 0, "weekdays only"),
        (CallCalendar(7, True, 19.0, 21.0), 0, "outside the product's hours 12-20"),
        (CallCalendar(7, True, 12.0, 19.0), 0, "exceeds 6 h"),
        (CallCalendar(7, True, 14.0, 17.0), 10, "allows 10 per year"),
    ]:
        plan = select_load_management(regs, shortfall, calendar, {"lim": calls})
        assert [i.resource_ids for i in plan.instructions] == [("cp",)]
        (refused,) = plan.refused
        assert refused.resource_id == "lim" and words in refused.reason, refused.reason
