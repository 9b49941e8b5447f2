"""The World: processes in simulated seconds, services, progress slicing that changes nothing."""

import pytest

from cosim.kernel import World


def ticker(world, name, period_s):
    rng = world.rng(name)
    while True:
        yield world.timeout(period_s)
        world.record(name, "value", rng.random(), "1")


def run_world(progress):
    world = World(seed=5)
    world.process(ticker(world, "a", 7.0))
    world.process(ticker(world, "b", 11.0))
    seen = []
    world.run(1000.0, progress=(lambda now, until: seen.append(now)) if progress else None, checkpoints=13)
    stats = {key: (s.count, s.total, s.last) for key, s in world.recorder.stats.items()}
    return world, stats, seen


def test_progress_slicing_gives_identical_results():
    _, plain, _ = run_world(progress=False)
    world, sliced, seen = run_world(progress=True)
    assert plain == sliced
    assert len(seen) == 13 and seen[-1] == pytest.approx(1000.0)
    assert world.now == pytest.approx(1000.0)


def test_services_are_registered_by_name():
    world = World()
    world.add_service("grid", object())
    assert world.has_service("grid")
    with pytest.raises(ValueError):
        world.add_service("grid", object())
    with pytest.raises(KeyError, match="no 'comm' service"):
        world.service("comm")


def test_two_worlds_do_not_interfere():
    first, second = World(seed=1), World(seed=1)
    first.process(ticker(first, "a", 1.0))
    second.process(ticker(second, "a", 1.0))
    first.run(10.0)
    second.run(5.0)
    assert first.now == 10.0 and second.now == 5.0
    # SimPy stops before the events scheduled exactly at ``until``.
    assert first.recorder.stats[("a", "value")].count == 9
    assert second.recorder.stats[("a", "value")].count == 4
