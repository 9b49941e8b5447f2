"""Typed DR and market messages: each record round-trips through its one encode/decode; others are refused."""

import numpy as np
import pytest

from cosim.markets.drplans import PlanRejection
from cosim.markets.messages import (
    AmiData,
    AvailableResource,
    CspSettlementMessage,
    DrPlanMessage,
    EconomicDispatch,
    EnrolledResource,
    Enrolment,
    EsiStatus,
    LmAvailability,
    LmEvent,
    LmInstructionRecord,
    LmRelease,
    LmpMessage,
    MvData,
    PlannedPlanResource,
    PlanResource,
    RpmResultMessage,
    SiteCredit,
)
from cosim.markets.prd import prd_reduction_mw
from cosim.markets.wire import PayloadError


def test_records_round_trip_with_nested_records_and_arrays():
    report = LmAvailability("csp_a", 300.0, (AvailableResource("r1", "ZD", "21201", 30, "pre_emergency", "annual", 1.5),))
    assert LmAvailability.decode(report.encode()) == report
    event = LmEvent("LM1", "ZD", 50400.0, 61200.0, (LmInstructionRecord("csp_a", ("r1", "r2"), 2.0, 120),))
    assert LmEvent.decode(event.encode()) == event
    assert LmRelease.decode(LmRelease("LM1", 55800.0).encode()) == LmRelease("LM1", 55800.0)
    assert LmpMessage.decode(LmpMessage("D", 101.5, 300.0, 300.0, 1.2).encode()).prd_cleared_mw == 1.2
    settled = CspSettlementMessage("csp_a", "day0", 1.0, 2.0, 0.5, 0.25, 2.75, np.array([3, 7]), np.array([1.5, 2.5]))
    back = CspSettlementMessage.decode(settled.encode())
    assert back.net_usd == 2.75 and back.site_index.tolist() == [3, 7] and back.reduction_kw.tolist() == [1.5, 2.5]


def same(a, b) -> bool:
    """Field by field, arrays by value and dtype."""
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


ENROLLED = EnrolledResource("csp_a.ZD.21201.30P", "csp_a", "ZD", "21201", 30, "pre_emergency", "annual")


@pytest.mark.parametrize("record", [
    Enrolment("dr_sites", "csp_a", (ENROLLED,), np.array([4, 9]), np.array([0, 0], dtype=np.int32),
              np.array([3.5, 1.25])),
    EsiStatus("dr_sites", "csp_a", 600.0, ("csp_a.ZD.21201.30P",), np.array([812.5]), np.array([2410.0])),
    AmiData("dr_sites", "csp_a", (0, 1, 4, 5), ("B", "D"), np.array([4, 9]), np.ones((2, 4, 24), dtype=np.float32),
            np.ones((2, 24), dtype=np.float32), np.array([0, 2], dtype=np.int8), np.array([1, 1])),
    DrPlanMessage("csp_b", 20000.0,
                  (PlanResource("csp_b.ZC.19101.60P", "annual", "ZC", "19101", 60, "pre_emergency", 120.0),),
                  (PlannedPlanResource("csp_b.ZC.planned", "annual", "ZC", 10.0, 120.0),),
                  np.array(["dr_sites.000004", "dr_sites.000009"]), np.array([0.0035, 0.00125]), np.array([0, 0])),
    RpmResultMessage("csp_c", "2029/2030", 155.48, ("r1", "r2"), (1.5, 0.0),
                     (PlanRejection("csp_c", "r2", "double_counting", "site dr_sites.000004 is also listed by csp_b"),)),
    MvData("csp_a", ("dr_sites", "site1"), (0, 10), ("r1", "r2"), ("ZD", "ZD"), ("csp_a.econ.D", ""), np.array([4, 9]), np.array([0, 1]),
           np.ones((2, 4, 24)), np.ones((2, 24)), np.array([1, 1, 0, 1], dtype=np.uint8),
           np.zeros((2, 24), dtype=np.uint8)),
    SiteCredit("csp_a", "dr_sites", "day0", np.array([4, 9]), np.array([12.5, 0.0])),
], ids=lambda r: type(r).__name__)
def test_enrolment_plan_result_meter_and_credit_records_round_trip(record):
    assert same(type(record).decode(record.encode()), record)


def test_a_record_missing_a_field_is_a_payload_error():
    from cosim.markets.wire import decode, encode

    header, arrays = decode(EsiStatus("p", "csp_a", 0.0, ("r1",), np.array([1.0]), np.array([2.0])).encode())
    del header["time_s"]
    with pytest.raises(PayloadError, match="not a EsiStatus"):
        EsiStatus.decode(encode(header, arrays))


def test_a_payload_of_another_record_is_a_payload_error():
    with pytest.raises(PayloadError, match="not a EconomicDispatch"):
        EconomicDispatch.decode(LmpMessage("D", 1.0, 0.0, 300.0).encode())


def test_prd_curve_value_at_the_lmp():
    steps, prices = [2.0, 1.0, 1.0], [100.0, 150.0, 250.0]
    assert prd_reduction_mw(steps, prices, 90.0) == 0.0
    assert prd_reduction_mw(steps, prices, 120.0) == 2.0
    assert prd_reduction_mw(steps, prices, 300.0) == 4.0
    # on a step's price the curve is vertical: the SCED's cleared amount picks the point, within the step
    assert prd_reduction_mw(steps, prices, 150.0, cleared_mw=2.4) == pytest.approx(2.4)
    assert prd_reduction_mw(steps, prices, 150.0, cleared_mw=9.0) == pytest.approx(3.0)
    assert prd_reduction_mw(steps, prices, 150.0) == pytest.approx(3.0)


def test_a_released_event_keeps_its_earliest_end_whatever_the_order_of_arrival():
    from cosim.domains.markets import merge_lm_event

    instructions = (LmInstructionRecord("csp_a", ("r1",), 2.0, 120),)
    first = LmEvent("LM1", "ZD", 50400.0, 61200.0, instructions)
    released = LmEvent("LM1", "ZD", 50400.0, 55800.0, instructions)
    other = LmEvent("LM2", "ZB", 57600.0, 64800.0, instructions)
    for order in ((first, released, other), (released, first, other), (first, released, first, other)):
        events: list[LmEvent] = []
        for e in order:
            merge_lm_event(events, e)
        assert events == [released, other]
