"""Outage accounting: per-load-point interruption start and end, and IEEE 1366 indices.

One job: turn a sequence of "which load points have supply now" observations
into interruption records (an :class:`~cosim.reliability.InterruptionLog`),
streamed rows for ``outages.csv``, and indices via
:func:`cosim.reliability.compute_indices`. It does not decide where the
observations come from: the OMS application feeds it the energisation the
control centre infers from SCADA switch positions and crew reports; the
Distribution domain's truth recorder feeds it the grid's served loads, so the
two can be compared.
"""

from __future__ import annotations

from typing import Callable, Hashable, Mapping, Sequence

from cosim.reliability import InterruptionLog, ReliabilityIndices, compute_indices
from cosim.reliability.indices import HOURS_PER_YEAR, IEEE_1366_MOMENTARY_THRESHOLD_S

OUTAGE_COLUMNS = ("load_point", "feeder", "customers", "load_kw", "start_s", "end_s", "duration_s", "kind", "source")
RowSink = Callable[[Sequence[object]], None]


class OutageTracker:
    """Open and closed interruptions of a set of load points.

    ``update(now, supplied)`` takes the supply state of every load point;
    a load point that loses supply opens an interruption, one that regains
    it closes it (a row is written then). ``close_all(now)`` ends the open
    ones at the end of a run (still without supply: the row says so).
    """

    def __init__(self, load_points: Sequence[str], customers: Mapping[str, int], load_kw: Mapping[str, float],
                 feeder: Mapping[str, str], *, source: str, sink: RowSink | None = None,
                 momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S) -> None:
        self.load_points = tuple(load_points)
        self.customers = dict(customers)
        self.load_kw = dict(load_kw)
        self.feeder = dict(feeder)
        self.source = source
        self.sink = sink
        self.threshold_s = momentary_threshold_s
        self.log = InterruptionLog()
        self.open: dict[str, float] = {}
        self.customers_out = 0

    def update(self, now_s: float, supplied: Mapping[str, bool]) -> tuple[list[str], list[str]]:
        """Record changes of supply; returns (load points that lost supply, that regained it)."""
        lost, back = [], []
        for lp in self.load_points:
            on = supplied.get(lp, True)
            if not on and lp not in self.open:
                self.open[lp] = now_s
                lost.append(lp)
            elif on and lp in self.open:
                self._close(lp, now_s, "restored")
                back.append(lp)
        self.customers_out = sum(self.customers[lp] for lp in self.open)
        return lost, back

    def momentary(self, lp: str, now_s: float, count: int = 1) -> None:
        """Interruptions too short to be seen as a change of state (a recloser's dead time): ``count`` zero-length records."""
        for _ in range(count):
            self.log.append(lp, now_s, now_s)
            self._row(lp, now_s, now_s, "momentary")

    def close_all(self, now_s: float) -> None:
        for lp in list(self.open):
            self._close(lp, now_s, "open_at_end")

    def _close(self, lp: str, now_s: float, note: str) -> None:
        start = self.open.pop(lp)
        self.log.append(lp, start, now_s)
        kind = "momentary" if now_s - start <= self.threshold_s else "sustained"
        self._row(lp, start, now_s, kind if note == "restored" else f"{kind}/{note}")

    def _row(self, lp: str, start: float, end: float, kind: str) -> None:
        if self.sink is not None:
            self.sink((lp, self.feeder.get(lp, ""), self.customers[lp], self.load_kw[lp], start, end, end - start, kind, self.source))

    def indices(self, period_s: float) -> ReliabilityIndices:
        """IEEE 1366 indices over ``period_s`` simulated seconds (open interruptions count up to now only if closed first)."""
        customers: dict[Hashable, int] = {k: v for k, v in self.customers.items()}  # Mapping keys are invariant
        load_kw: dict[Hashable, float] = {k: v for k, v in self.load_kw.items()}
        feeder: dict[Hashable, str] | None = None
        if set(self.load_points) <= set(self.feeder):
            feeder = {k: v for k, v in self.feeder.items()}
        return compute_indices(self.log, customers, load_kw, period_s / (HOURS_PER_YEAR * 3600.0), self.threshold_s, feeder)


def indices_fields(result: ReliabilityIndices) -> dict[str, object]:
    """System and per-feeder indices as one flat, JSON-friendly dict (for the event log and the summary)."""
    fields: dict[str, object] = {f"system_{k}": v for k, v in result.system.as_dict().items()}
    if result.records is not None:
        fields.update({f"system_{k}": v for k, v in result.records.as_dict().items()})
    for feeder, values in result.feeders.items():
        fields.update({f"{feeder}_{k}": v for k, v in values.as_dict().items()})
    return fields
