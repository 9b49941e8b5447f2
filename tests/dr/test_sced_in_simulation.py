"""The SCED inside a simulation run prices the PJM 5-bus case at the published LMPs, and publishes them."""

from __future__ import annotations

import pytest
from dr_runs import Run

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

PUBLISHED = {"A": 16.98, "B": 26.38, "C": 30.00, "D": 39.94, "E": 10.00}   # Li & Bo 2010

SCENARIO = """
name: sced_5bus
run: {duration: 1h, step: 5min, seed: 1}
actors:
  - id: pjm_market
    domain: Markets
    role: RTO energy market
    applications:
      - {kind: iso_market, params: {broker: broker, energy: {case: pjm5bus, interval: 5min}}}
  - id: utility
    domain: Service Provider
    role: biller listening to LMPs
    applications:
      - {kind: retail_billing, params: {broker: broker, bill_at: 50min}}
associations:
  - {from: pjm_market, to: utility, kind: communication, label: LMPs}
comm:
  nodes: [{id: broker}, {id: pjm_market}, {id: utility}]
  links:
    - {a: pjm_market, b: broker, profile: lan}
    - {a: utility, b: broker, profile: fibre_wan}
  mqtt: {brokers: [{node: broker}]}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sced")
    (folder / "s.yaml").write_text(SCENARIO)
    run_scenario(load_scenario(folder / "s.yaml"), folder / "out")
    return Run(folder / "out")


def test_every_interval_reproduces_the_published_lmps_to_the_cent(run):
    for bus, price in PUBLISHED.items():
        series = run.series(f"pjm_market/{bus}", "lmp")
        assert len(series) == 12                                  # 1 h of 5-minute intervals
        assert {round(v, 2) for _, v in series} == {price}


def test_lmps_travel_over_mqtt_to_the_service_provider(run):
    trace = run.table("messages")
    delivered = {m["info"].split()[1] for m in trace
                 if m["dst"] == "utility" and m["info"].startswith("PUBLISH pjm/lmp/") and m["status"] == "delivered"}
    assert delivered == {f"pjm/lmp/{bus}" for bus in PUBLISHED}
    assert not run.events("sced_failed")
