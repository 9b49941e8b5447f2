"""The report's market section: auctions whole, SCED intervals as hourly means, from market_results.csv."""

from cosim.report.market import auction_rows, hourly_sced, market_html, read_results

ROWS = """market,time_s,name,quantity,value,unit
rpm,120.0,2029/2030,clearing_price,155.5,$/MW-day
rpm,120.0,2029/2030,cleared_ucap,1500.0,MW
rpm,120.0,2029/2030,dr_cleared_ucap,96.0,MW
sced,0.0,A,lmp,10.0,$/MWh
sced,0.0,D,lmp,20.0,$/MWh
sced,0.0,Peaker,dispatched,0.0,MW
sced,0.0,econ.D,economic_dr_cleared,0.0,MW
sced,0.0,system,shortage,0.0,MW
sced,1800.0,A,lmp,12.0,$/MWh
sced,1800.0,D,lmp,40.0,$/MWh
sced,1800.0,Peaker,dispatched,30.0,MW
sced,1800.0,econ.D,economic_dr_cleared,4.0,MW
sced,1800.0,system,shortage,0.0,MW
sced,3600.0,A,lmp,15.0,$/MWh
sced,3600.0,D,lmp,180.0,$/MWh
sced,3600.0,Peaker,dispatched,90.0,MW
sced,3600.0,econ.D,economic_dr_cleared,8.0,MW
sced,3600.0,econ.D2,economic_dr_cleared,1.0,MW
sced,3600.0,system,shortage,0.0,MW
sced,39"""   # a half-written last line, as after a crash


def test_auctions_whole_and_sced_intervals_as_hourly_means(tmp_path):
    path = tmp_path / "market_results.csv"
    path.write_text(ROWS)
    rows = read_results(path)
    assert auction_rows(rows) == [["2029/2030", 120.0, 155.5, 1500.0, 96.0]]
    header, hourly = hourly_sced(rows)
    assert header == ["hour", "intervals", "LMP A ($/MWh)", "LMP D ($/MWh)", "Peaker (MW)",
                      "economic DR cleared (MW)", "shortage (MW)"]
    # hour 0: two intervals (0 s and 1800 s), means by hand; hour 1: one interval, DR summed over both offers
    assert hourly == [["00:00", 2, 11.0, 30.0, 15.0, 2.0, 0.0], ["01:00", 1, 15.0, 180.0, 90.0, 9.0, 0.0]]
    page = market_html(path)
    assert "Capacity auctions" in page and "hourly means" in page and "155.5" in page


def test_a_market_that_cleared_nothing_says_so(tmp_path):
    path = tmp_path / "market_results.csv"
    path.write_text("market,time_s,name,quantity,value,unit\n")
    assert "cleared nothing" in market_html(path)
