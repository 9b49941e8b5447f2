import numpy as np
import pytest

from cosim.markets.billing import TariffKind, bill_accounts, load_tariffs, tariff_from_dict

HOURS = np.arange(24)


def test_shipped_tariffs_load():
    t = load_tariffs()
    assert {x.kind for x in t.values()} == set(TariffKind)


def test_flat_tou_and_real_time_bills_with_dr_credit():
    t = load_tariffs()
    tariffs = [t["residential-flat"], t["residential-tou"], t["commercial-rtp"]]
    energy = np.ones((3, 24))                    # 1 kWh every hour
    lmp = np.full(24, 40.0)
    lmp[17] = 1040.0                             # one scarcity hour
    bills = bill_accounts(["flat", "tou", "rtp"], energy, np.array([0, 1, 2]), tariffs, HOURS, lmp,
                          dr_credit_usd=np.array([0.0, 2.5, 0.0]))
    flat, tou, rtp = bills
    assert flat.energy_charge_usd == pytest.approx(24 * 0.14)
    assert flat.total_usd == pytest.approx(24 * 0.14 + 10.0)
    assert tou.energy_charge_usd == pytest.approx(19 * 0.10 + 5 * 0.30)
    assert tou.total_usd == pytest.approx(19 * 0.10 + 5 * 0.30 + 10.0 - 2.5)
    assert rtp.energy_charge_usd == pytest.approx(23 * 0.04 + 1.04 + 24 * 0.05)


def test_tou_must_cover_the_day():
    with pytest.raises(ValueError, match="cover hours"):
        tariff_from_dict({"name": "bad", "kind": "time_of_use",
                          "tou": [{"start_hour": 0, "end_hour": 12, "price_usd_per_kwh": 0.1}]})


def test_real_time_needs_lmps():
    t = load_tariffs()["commercial-rtp"]
    with pytest.raises(ValueError, match="LMP"):
        bill_accounts(["x"], np.ones((1, 24)), np.array([0]), [t], HOURS)


def test_hour_zero_price_is_the_billed_days_midnight_not_the_next_days():
    from cosim.markets.billing import hourly_mean_lmp

    samples = [(0.0, 20.0), (300.0, 22.0), (3600.0, 30.0), (86400.0, 200.0), (86700.0, 210.0)]
    day0 = hourly_mean_lmp(samples, 0)
    assert day0[0] == 21.0 and day0[1] == 30.0 and day0[2] == 0.0
    assert hourly_mean_lmp(samples, 1)[0] == 205.0
