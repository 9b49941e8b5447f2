"""Measurement noise: statistics, quantisation to the register step, determinism per stream."""

import numpy as np
import pytest

from devices.noise import NoiseSpec, measure, quantise
from devices.registermap import DataType, Point, RegisterMap
from devices.registerstore import RegisterStore
from cosim.comm.modbus.datamodel import ModbusTable


def test_relative_and_absolute_sigmas_add_in_quadrature():
    rng = np.random.default_rng(1)
    values = np.full(200_000, 100.0)
    measured = measure(values, rng, NoiseSpec(sigma_abs=0.3, sigma_rel=0.004))
    assert measured.mean() == pytest.approx(100.0, abs=0.01)
    assert measured.std() == pytest.approx(0.5, rel=0.01)


def test_quantised_to_the_register_resolution():
    rng = np.random.default_rng(2)
    value = measure(230.0, rng, NoiseSpec(sigma_abs=1.0), resolution=0.1)
    assert isinstance(value, float)
    assert value == round(value, 1)
    assert quantise(12.344, 0.01) == 12.34
    assert quantise(1234.0, 10.0) == 1230.0


def test_quantised_value_survives_the_register_store_unchanged():
    point = Point("voltage_v", ModbusTable.INPUT_REGISTERS, 0, DataType.U16, 0.1, "V")
    store = RegisterStore(RegisterMap("m", (point,)))
    rng = np.random.default_rng(3)
    for _ in range(100):
        value = measure(230.0, rng, NoiseSpec(sigma_rel=0.01), resolution=point.resolution)
        store.set("voltage_v", value)
        assert store.get("voltage_v") == value


def test_same_stream_same_draws_and_zero_sigma_still_draws():
    a = measure(np.arange(5.0), np.random.default_rng(7), NoiseSpec(sigma_abs=0.1))
    b = measure(np.arange(5.0), np.random.default_rng(7), NoiseSpec(sigma_abs=0.1))
    assert np.array_equal(a, b)
    rng = np.random.default_rng(7)
    assert measure(5.0, rng, NoiseSpec()) == 5.0
    after_silent = rng.standard_normal()
    rng = np.random.default_rng(7)
    rng.standard_normal()
    assert rng.standard_normal() == after_silent
