"""The quickstart, the README's first promise: a simulated day that shows something in every NIST domain."""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

QUICKSTART = Path(__file__).parents[1] / "configs" / "quickstart.yaml"
METERS = ("meter_home_1", "meter_office_1", "meter_factory_1")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quickstart")
    result = run_scenario(load_scenario(QUICKSTART), out)
    assert result.status == "completed"
    return out


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def summary(run: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["domain"], r["quantity"]): r for r in read(run / "summary.csv")}


@pytest.mark.parametrize(
    "domain", ["Bulk Generation", "Transmission", "Distribution", "Customer", "Operations", "Markets", "Service Provider"]
)
def test_the_summary_has_rows_for_the_domain(run, domain):
    assert any(d == domain for d, _ in summary(run))


def test_the_retailer_bills_each_customer_from_metered_intervals(run):
    bills = {row["account_id"]: row for row in read(run / "bills.csv")}
    assert set(bills) == set(METERS)
    consumed = {}
    for row in read(run / "timeseries.csv"):
        if row["quantity"] == "energy_consumed":
            consumed[row["entity"]] = float(row["value"])  # the last sample: energy over the day so far
    for meter in METERS:
        billed_kwh = float(bills[meter]["energy_kwh"])
        customer = meter.removeprefix("meter_")
        # bills are issued at 23:59: the last 15-minute interval is not in yet, and a
        # message lost on the mesh beyond its QoS 1 retries is not billed
        assert 0.9 * consumed[customer] < billed_kwh <= consumed[customer] * 1.0001
        assert float(bills[meter]["total_usd"]) > float(bills[meter]["fixed_charge_usd"])
    assert bills["meter_home_1"]["tariff"] == "residential-tou"


def test_operations_sees_the_feeder_the_grid_carries(run):
    rows = summary(run)
    # SCADA reads the substation RTU over Modbus; the feeder's head section is the largest flow of the three
    scada_max_kw = float(rows[("Operations", "feeder_p_kw")]["max"])
    grid_max_mw = float(rows[("Distribution", "p_from")]["max"])
    assert scada_max_kw == pytest.approx(grid_max_mw * 1000.0, rel=0.01)
    assert float(rows[("Operations", "feeder_cb_closed")]["min"]) == 1.0


def test_the_capacity_auction_clears_where_supply_meets_the_demand_curve(run):
    # 45.3 MW offered, cheaper than the curve there: supply is vertical, the VRR curve sets
    # the price between (30 MW, 300 $) and (45 MW, 150 $) ... (60 MW, 0 $): 150 - 0.3 x 10 = 147 $/MW-day
    assert float(summary(run)[("Markets", "rpm_clearing_price")]["mean"]) == pytest.approx(147.0)


def test_scada_polls_travel_as_modbus_and_arrive(run):
    # (the wind farm's turbines also write their available power to the park controller, on the farm's own node)
    modbus = [m for m in read(run / "messages.csv") if m["protocol"] == "modbus" and m["path"] != "wind_farm"]
    assert modbus
    delivered = [m for m in modbus if m["status"] == "delivered"]
    assert len(delivered) >= 0.999 * len(modbus)
    assert {m["path"] for m in delivered} == {"control_centre>wan>substation", "substation>wan>control_centre"}


def test_every_meter_reports_its_intervals_to_the_head_end(run):
    published: dict[str, set[str]] = defaultdict(set)
    for m in read(run / "messages.csv"):
        if m["protocol"] == "mqtt" and m["status"] == "delivered" and m["dst"] == "headend" and "/interval " in m["info"] \
                and m["src"] in METERS:
            published[m["src"]].add(m["info"].rsplit("id=", 1)[-1])
    # 96 quarter hours a day; the RF mesh loses packets, MQTT QoS 1 retries them (after a
    # reconnect when the broker gave up on a meter whose PINGREQs were lost)
    assert {meter: len(ids) >= 90 for meter, ids in published.items()} == {meter: True for meter in METERS}


def test_link_statistics_cover_every_link(run):
    links = {r["link"]: r for r in read(run / "link_stats.csv")}
    assert len(links) == 9
    assert all(int(r["delivered"]) > 0 for r in links.values())
    mesh = links["meter_home_1--collector"]
    assert int(mesh["lost"]) > 0  # the RF mesh is lossy (2 % residual loss), the fibre WAN is not
    assert int(links["wan--substation"]["lost"]) == 0
