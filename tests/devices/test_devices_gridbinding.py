"""Every intent the logic can emit has a grid action."""

import typing

import pytest

from cosim.grid.actions import CurtailDer, SetDerOutput, SetGeneratorSetpoint, SetShuntStep, SetSwitch
from devices.gridbinding import grid_action
from devices.intents import (CapPlantOutput, CloseBreaker, CloseSwitch, DispatchUnit, Intent, OpenSwitch,
                             SetAvailablePower, SetUnitOnline, SwitchCapacitor, TripBreaker)


@pytest.mark.parametrize(
    ("intent", "action"),
    [
        (TripBreaker("cb1"), SetSwitch("cb1", False)),
        (CloseBreaker("cb1"), SetSwitch("cb1", True)),
        (OpenSwitch("s1"), SetSwitch("s1", False)),
        (CloseSwitch("s1"), SetSwitch("s1", True)),
        (SwitchCapacitor("c1", True), SetShuntStep("c1", 1)),
        (SwitchCapacitor("c1", False), SetShuntStep("c1", 0)),
        (DispatchUnit("g1", 12.5), SetGeneratorSetpoint("g1", p_mw=12.5)),
        (SetUnitOnline("g1", False), SetGeneratorSetpoint("g1", in_service=False)),
        (SetAvailablePower("w1", 1.5), SetDerOutput("w1", p_mw=1.5)),
        (CapPlantOutput("w1", 1.0), CurtailDer("w1", 1.0)),
        (CapPlantOutput("w1", None), CurtailDer("w1", None)),
    ],
)
def test_intent_to_action(intent, action):
    assert grid_action(intent) == action


def test_every_intent_kind_is_covered():
    assert set(typing.get_args(Intent)) == {TripBreaker, CloseBreaker, OpenSwitch, CloseSwitch, SwitchCapacitor,
                                            DispatchUnit, SetUnitOnline, SetAvailablePower, CapPlantOutput}
