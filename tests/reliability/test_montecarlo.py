"""Sequential Monte Carlo: agrees with the analytic method within its own confidence interval, deterministically."""

import numpy as np
import pytest

from cosim.kernel.rng import RandomStreams
from cosim.reliability.data import load_system
from cosim.reliability.fmea import analytic_indices, failure_modes
from cosim.reliability.montecarlo import DurationModel, OverlapModel, expand_interruptions, sample_failures, simulate
from cosim.reliability.statistics import mean_estimate, ratio_estimate
from cosim.reliability.topology import build_topology

YEARS = 20_000
SEED = 2024


@pytest.fixture(scope="module")
def bus2():
    system = load_system("rbts_bus2")
    topology = build_topology(system)
    modes = failure_modes(system, topology)
    return system, topology, modes, analytic_indices(system, topology, modes)


def rng(name="reliability/test"):
    return RandomStreams(SEED)(name)


def test_mean_is_within_its_confidence_interval_of_the_analytic_value(bus2):
    # With fixed repair and switching times and overlaps counted independently, the Monte
    # Carlo estimates the very quantity the analytic method computes: the 95 % interval of a
    # seeded 20 000-year run must contain it.
    system, topology, modes, analytic = bus2
    result = simulate(system, topology, modes, YEARS, rng(), repair_model=DurationModel.FIXED)
    table = result.per_year
    for name in ("saifi_per_year", "saidi_hours_per_year", "asai", "ens_mwh_per_year"):
        estimate = mean_estimate(table[name])
        assert estimate.contains(getattr(analytic.system, name)), (name, estimate, getattr(analytic.system, name))
    caidi = ratio_estimate(table["saidi_hours_per_year"], table["saifi_per_year"])
    assert caidi.contains(analytic.system.caidi_hours)
    assert np.all(table["maifi_per_year"] == 0)  # nothing lasts 5 min or less with fixed times


def test_failure_counts_follow_the_failure_rates(bus2):
    _, _, modes, _ = bus2
    events = sample_failures(modes, YEARS, rng())
    counts = np.bincount(events.component, minlength=len(modes))
    expected = modes.failure_rate_per_year * YEARS
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # Poisson, 5 sigma
    assert np.all(np.diff(events.start_hours) >= 0) and events.start_hours.max() < YEARS * 8760


def test_a_component_does_not_fail_while_under_repair(bus2):
    _, _, modes, _ = bus2
    events = sample_failures(modes, 2_000, rng())
    for component in np.unique(events.component):
        mine = events.component == component
        ends = events.start_hours[mine][:-1] + events.repair_hours[mine][:-1]
        assert np.all(events.start_hours[mine][1:] > ends)


def test_same_stream_same_years_other_stream_other_years(bus2):
    system, topology, modes, _ = bus2
    first = simulate(system, topology, modes, 500, rng()).per_year
    again = simulate(system, topology, modes, 500, rng()).per_year
    other = simulate(system, topology, modes, 500, rng("reliability/other")).per_year
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_exponential_repairs_make_some_interruptions_momentary(bus2):
    # An exponential repair time shorter than 5 min is a momentary interruption (IEEE 1366):
    # SAIFI falls below the analytic value by about P(repair <= 5 min) of the repair-time events.
    system, topology, modes, analytic = bus2
    table = simulate(system, topology, modes, YEARS, rng()).per_year
    assert mean_estimate(table["maifi_per_year"]).mean > 0
    total = mean_estimate(table["saifi_per_year"] + table["maifi_per_year"])
    assert total.contains(analytic.system.saifi_per_year)
    assert mean_estimate(table["saidi_hours_per_year"]).contains(analytic.system.saidi_hours_per_year)


def test_merging_overlaps_never_adds_interruption_time(bus2):
    _, _, modes, _ = bus2
    events = sample_failures(modes, 5_000, rng())
    additive = expand_interruptions(modes, events, OverlapModel.ADDITIVE)
    merged = expand_interruptions(modes, events, OverlapModel.MERGE)
    assert len(merged) <= len(additive)
    assert merged.duration_hours.sum() <= additive.duration_hours.sum() + 1e-6
    for lp in range(22):  # merged intervals of one load point never overlap
        mine = merged.load_point == lp
        start, end = merged.start_hours[mine], merged.start_hours[mine] + merged.duration_hours[mine]
        assert np.all(start[1:] > end[:-1])


def test_pooled_load_point_indices_approach_the_analytic_ones(bus2):
    system, topology, modes, analytic = bus2
    pooled = simulate(system, topology, modes, YEARS, rng(), repair_model=DurationModel.FIXED).pooled
    assert pooled.load_points.failure_rate_per_year == pytest.approx(analytic.load_points.failure_rate_per_year, rel=0.05)
    assert set(pooled.feeders) == {"F1", "F2", "F3", "F4"}


def test_years_must_be_positive(bus2):
    system, topology, modes, _ = bus2
    with pytest.raises(ValueError, match="years"):
        simulate(system, topology, modes, 0, rng())


def test_histories_run_on_across_chunks(bus2):
    # Drawing in chunks must not let a component fail while still under repair from the previous chunk.
    from cosim.reliability.montecarlo import _FailureHistory

    _, _, modes, _ = bus2
    history = _FailureHistory(modes, rng(), DurationModel.FIXED)
    parts = [history.until(year * 8760.0) for year in range(1, 3001)]  # one-year chunks
    component = np.concatenate([p[0] for p in parts])
    start = np.concatenate([p[1] for p in parts])
    repair = np.concatenate([p[2] for p in parts])
    for c in np.unique(component):
        mine = component == c
        assert np.all(start[mine][1:] >= start[mine][:-1] + repair[mine][:-1])
    counts = np.bincount(component, minlength=len(modes))
    expected = modes.failure_rate_per_year * 3000
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_chunked_simulation_still_agrees_with_the_analytic_value(bus2):
    system, topology, modes, analytic = bus2
    table = simulate(system, topology, modes, YEARS, rng(), repair_model=DurationModel.FIXED, chunk_years=777).per_year
    assert table["year"][-1] == YEARS - 1
    for name in ("saifi_per_year", "saidi_hours_per_year", "ens_mwh_per_year"):
        assert mean_estimate(table[name]).contains(getattr(analytic.system, name)), name


def test_major_event_days_split_the_years_by_the_2_5_beta_threshold(bus2):
    # IEEE 1366-2012 4.5: a day whose SAIDI exceeds T_MED is a major event day and its interruptions leave the
    # *_excl_med indices. So a year without one keeps every index; a year with one lost at least T_MED of SAIDI.
    system, topology, modes, _ = bus2
    result = simulate(system, topology, modes, YEARS, rng("reliability/med"))
    table, t_med_h = result.per_year, result.major_event_threshold_minutes / 60.0
    assert t_med_h > 0
    quiet = table["major_event_days_per_year"] == 0
    assert 0 < (~quiet).sum() < quiet.sum()
    assert np.array_equal(table["saidi_excl_med_hours_per_year"][quiet], table["saidi_hours_per_year"][quiet])
    assert np.array_equal(table["saifi_excl_med_per_year"][quiet], table["saifi_per_year"][quiet])
    removed = table["saidi_hours_per_year"][~quiet] - table["saidi_excl_med_hours_per_year"][~quiet]
    assert np.all(removed > t_med_h * table["major_event_days_per_year"][~quiet] - 1e-9 * t_med_h)
    assert np.all(table["saifi_excl_med_per_year"] <= table["saifi_per_year"] + 1e-12)
