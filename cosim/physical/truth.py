"""The ground truth of customer interruptions, read from the power flow's served loads.

Not an actor: no utility sees this. It is the study's instrument, recorded
beside what the OMS reconstructs from messages (``outages_truth`` against
``outages``) so that the OMS can be checked. It therefore reads the live grid,
which nothing in Operations may do.

By default it looks at every grid change, waiting on the field devices'
shared grid-change event (:attr:`devices.field.base.DeviceLayer.grid_changed`)
rather than chaining a hook of its own: exact times, no cost while nothing
changes.
"""

from __future__ import annotations

from typing import Any, Generator

from pydantic import Field

from ..domains.context import RunContext
from ..domains.registry import Params, application
from ..kernel import World
from ..kernel.clock import clock_resolution, delay_until
from ..nist import Actor, Domain
from ..operations.oms import OUTAGE_COLUMNS, OutageTracker, indices_fields
from .fieldwork import device_layer


class OutageTruthParams(Params):
    step_s: float | None = Field(None, gt=0, description="seconds between looks at the served loads; "
                                 "default: look at every grid change (exact times, no cost while nothing changes)")
    momentary_threshold_s: float = Field(300.0, gt=0)


@application("outage_truth", {Domain.DISTRIBUTION}, OutageTruthParams)
def outage_truth(world: World, actor: Actor, params: OutageTruthParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Ground truth of customer interruptions from the power flow's served loads (for validating the OMS)."""
    grid = world.service("grid")
    loads = grid.network.loads
    names = list(loads.name)
    customers = {n: int(c) for n, c in zip(names, loads.customers)}
    load_kw = {n: float(p) * 1000.0 for n, p in zip(names, loads.p_mw)}
    table = world.recorder.table("outages_truth", OUTAGE_COLUMNS)
    tracker = OutageTracker(names, customers, load_kw, {}, source="truth", sink=table.write,
                            momentary_threshold_s=params.momentary_threshold_s)
    end = ctx.duration_s - 4 * clock_resolution(ctx.duration_s)  # before the end (until= excludes it), at any magnitude

    def look() -> None:
        result = grid.solve_if_changed()
        tracker.update(world.now, dict(zip(grid.network.loads.name, (bool(s) for s in result.load_served))))

    if params.step_s is not None:
        while world.now + params.step_s < end:
            yield world.timeout(0)  # after everything acting at this instant
            look()
            yield world.timeout(params.step_s)
        yield world.timeout(delay_until(world.now, end))
    else:
        layer = device_layer(world)
        finished = world.timeout(delay_until(world.now, end))
        look()
        while not finished.processed:
            yield world.env.any_of([layer.grid_changed, finished])
            if finished.processed:
                break
            yield world.timeout(0)  # after everything acting at this instant
            look()
    tracker.close_all(world.now)
    world.log("reliability_indices", source="truth", actor=actor.actor_id, **indices_fields(tracker.indices(ctx.duration_s)))
