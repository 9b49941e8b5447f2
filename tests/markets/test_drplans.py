from cosim.markets.drplans import DrPlan, EndUseSite, ExistingResource, PlannedResource, validate_dr_plans
from cosim.markets.rules import ResourceType as R


def existing(rid, *sites):
    return ExistingResource(rid, R.ANNUAL, "PECO", tuple(EndUseSite(s, mw) for s, mw in sites))


def test_clean_plans_are_approved():
    plans = [DrPlan("CSP-A", (existing("A1", ("site-1", 0.5)),), (PlannedResource("A2", R.ANNUAL, "PECO", 2.0),), 10_000)]
    review = validate_dr_plans(plans)
    assert review.ok
    assert review.approved_mw == {("CSP-A", "A1"): 0.5, ("CSP-A", "A2"): 2.0}


def test_double_counting_names_both_listings():
    plans = [DrPlan("CSP-A", (existing("A1", ("site-7", 1.0)),), (), 0),
             DrPlan("CSP-B", (existing("B9", ("site-7", 1.0), ("site-8", 0.4)),), (), 0)]
    review = validate_dr_plans(plans)
    assert {(r.csp, r.resource_id, r.rule) for r in review.rejections} == {
        ("CSP-A", "A1", "double_counting"), ("CSP-B", "B9", "double_counting")}
    for r in review.rejections:
        assert "site-7" in r.reason and "CSP-A/A1" in r.reason and "CSP-B/B9" in r.reason
    assert review.approved_mw == {}


def test_resource_below_minimum_size_is_rejected():
    plans = [DrPlan("CSP-A", (existing("A1", ("s1", 0.04), ("s2", 0.05)),), (), 0)]
    (rej,) = validate_dr_plans(plans).rejections
    assert rej.rule == "minimum_size" and "A1" in rej.reason and "0.100 MW" in rej.reason


def test_planned_resource_without_enough_credit_is_rejected():
    plans = [DrPlan("CSP-C", (), (PlannedResource("C1", R.ANNUAL, "PECO", 3.0),), 10_000)]
    (rej,) = validate_dr_plans(plans, credit_usd_per_mw=5_000).rejections
    assert rej.rule == "planned_credit"
    assert "CSP-C" in rej.reason and "C1" in rej.reason and "$15,000.00" in rej.reason
