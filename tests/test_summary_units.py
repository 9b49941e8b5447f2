"""The summary names each of a domain's quantities once: convertible units merge, others are told apart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.kernel.recorder import QuantityStats
from cosim.nist import Actor, Domain, SmartGridModel
from cosim.summary import summarise


def stats(unit: str, *values: float) -> QuantityStats:
    item = QuantityStats(unit)
    for v in values:
        item.add(v)
    return item


def test_kw_and_mw_of_one_quantity_merge_into_the_unit_most_entities_use():
    model = SmartGridModel((Actor("h1", Domain.CUSTOMER, "Home", "h1"), Actor("h2", Domain.CUSTOMER, "Home", "h2"),
                            Actor("pv", Domain.CUSTOMER, "PV", "pv")), ())
    rows = summarise({("h1", "p"): stats("kW", 2.0, 4.0), ("h2", "p"): stats("kW", 1.0), ("pv", "p"): stats("MW", 0.005)}, model)
    (row,) = [r for r in rows if r.quantity == "p"]
    assert row.unit == "kW" and row.entities == 3 and row.samples == 4
    assert row.maximum == pytest.approx(5.0) and row.minimum == pytest.approx(1.0)
    assert row.mean == pytest.approx((2.0 + 4.0 + 1.0 + 5.0) / 4)


def test_units_of_different_kinds_are_named_apart():
    model = SmartGridModel((Actor("a", Domain.OPERATIONS, "SCADA", "a"), Actor("b", Domain.OPERATIONS, "SCADA", "b")), ())
    rows = summarise({("a", "current"): stats("A", 10.0), ("b", "current"): stats("pu", 0.5)}, model)
    assert sorted(r.quantity for r in rows) == ["current [A]", "current [pu]"]


def test_quickstart_summary_has_unique_names_per_domain(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "configs/quickstart.yaml", "--until", "1h", "--out", str(out), "--no-progress"]) == 0
    with (out / "summary.csv").open() as f:
        keys = [(r["domain"], r["quantity"]) for r in csv.DictReader(f)]
    assert len(keys) == len(set(keys))


@pytest.fixture(autouse=True)
def _root(monkeypatch):
    monkeypatch.chdir(Path(__file__).parents[1])
