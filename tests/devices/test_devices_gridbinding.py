"""Every intent the logic can emit has a grid action."""

import typing

import pytest

from cosim.grid.actions import SetShuntStep, SetSwitch
from devices.gridbinding import grid_action
from devices.intents import CloseBreaker, CloseSwitch, Intent, OpenSwitch, SwitchCapacitor, TripBreaker


@pytest.mark.parametrize(
    ("intent", "action"),
    [
        (TripBreaker("cb1"), SetSwitch("cb1", False)),
        (CloseBreaker("cb1"), SetSwitch("cb1", True)),
        (OpenSwitch("s1"), SetSwitch("s1", False)),
        (CloseSwitch("s1"), SetSwitch("s1", True)),
        (SwitchCapacitor("c1", True), SetShuntStep("c1", 1)),
        (SwitchCapacitor("c1", False), SetShuntStep("c1", 0)),
    ],
)
def test_intent_to_action(intent, action):
    assert grid_action(intent) == action


def test_every_intent_kind_is_covered():
    assert set(typing.get_args(Intent)) == {TripBreaker, CloseBreaker, OpenSwitch, CloseSwitch, SwitchCapacitor}
