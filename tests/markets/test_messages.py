"""Typed DR and market messages: each record round-trips through its one encode/decode; others are refused."""

import numpy as np
import pytest

from cosim.markets.messages import (
    AvailableResource,
    CspSettlementMessage,
    EconomicDispatch,
    LmAvailability,
    LmEvent,
    LmInstructionRecord,
    LmpMessage,
)
from cosim.markets.prd import prd_reduction_mw
from cosim.markets.wire import PayloadError


def test_records_round_trip_with_nested_records_and_arrays():
    report = LmAvailability("csp_a", 300.0, (AvailableResource("r1", "ZD", "21201", 30, "pre_emergency", "annual", 1.5),))
    assert LmAvailability.decode(report.encode()) == report
    event = LmEvent("LM1", "ZD", 50400.0, 61200.0, (LmInstructionRecord("csp_a", ("r1", "r2"), 2.0, 120),))
    assert LmEvent.decode(event.encode()) == event
    assert LmpMessage.decode(LmpMessage("D", 101.5, 300.0, 300.0, 1.2).encode()).prd_cleared_mw == 1.2
    settled = CspSettlementMessage("csp_a", "day0", 1.0, 2.0, 0.5, 0.25, 2.75, np.array([3, 7]), np.array([1.5, 2.5]))
    back = CspSettlementMessage.decode(settled.encode())
    assert back.net_usd == 2.75 and back.site_index.tolist() == [3, 7] and back.reduction_kw.tolist() == [1.5, 2.5]


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
