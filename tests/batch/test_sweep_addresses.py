"""Parameter addresses: how a sweep names one value of a scenario, and how it says it names nothing."""

import pytest

from cosim.batch.paths import AddressError, Item, Key, check_address, parse_address, set_value

SCENARIO = {
    "run": {"duration": "1d", "seed": 42},
    "actors": [
        {"id": "plant", "applications": []},
        {"id": "home_1", "applications": [{"kind": "load_profile"}, {"kind": "rooftop_pv", "params": {"capacity_kw": 5}}]},
    ],
    "associations": [{"from": "plant", "to": "home_1", "kind": "electrical"}],
}


def test_parse_keys_and_items():
    address = parse_address("actors[home_1].applications[load_profile].params.noise_pct")
    assert address.steps == (Key("actors"), Item("home_1"), Key("applications"), Item("load_profile"), Key("params"), Key("noise_pct"))
    assert address.leaf == "noise_pct"
    assert parse_address("associations[0].label").steps[1].index == 0


@pytest.mark.parametrize("text", ["", "run..seed", "run.", "actors[home_1", "actors[]", "3run", "run seed"])
def test_malformed_addresses_are_refused(text):
    with pytest.raises(AddressError):
        parse_address(text)


def test_set_by_id_kind_and_position_leaves_the_original_alone():
    changed = set_value(SCENARIO, parse_address("actors[home_1].applications[rooftop_pv].params.capacity_kw"), 9)
    assert changed["actors"][1]["applications"][1]["params"] == {"capacity_kw": 9}
    assert SCENARIO["actors"][1]["applications"][1]["params"] == {"capacity_kw": 5}
    assert set_value(SCENARIO, parse_address("associations[0].label"), "x")["associations"][0]["label"] == "x"


def test_missing_mapping_keys_are_created():
    """An application without params yet: the schema check of the resolved run decides if the field exists."""
    address = parse_address("actors[home_1].applications[load_profile].params.noise_pct")
    check_address(SCENARIO, address)
    changed = set_value(SCENARIO, address, 5)
    assert changed["actors"][1]["applications"][0]["params"] == {"noise_pct": 5}


@pytest.mark.parametrize(
    "text, words",
    [
        ("actors[home_2].peak_kw", "no item has id, name or kind 'home_2' (known: "),
        ("actors[7].peak_kw", "position 7 is past the end"),
        ("run.seed.low", "run.seed is a value"),
        ("run[0]", "not a list"),
        ("devices[rtu].params", "devices is not in the base scenario"),
    ],
)
def test_dangling_addresses_say_where_they_break(text, words):
    with pytest.raises(AddressError, match=None) as caught:
        check_address(SCENARIO, parse_address(text))
    assert words in str(caught.value)


def test_ambiguous_selector_asks_for_a_position():
    data = {"actors": [{"id": "a", "kind": "x"}, {"id": "b", "kind": "x"}]}
    with pytest.raises(AddressError, match=r"2 items have kind 'x'; use a position such as \[0\]"):
        check_address(data, parse_address("actors[x].role"))
