"""Failure modes and effects: what each component failure does to each load point.

One job: the classic analytical evaluation of a radial distribution system
(Allan et al., IEEE Trans. PWRS 6(2), 1991; Billinton & Allan, *Reliability
Evaluation of Power Systems*, 2nd ed. 1996, sec. 7.4-7.6). For every
component failure it decides, for every load point, whether the load point

- is not interrupted (a fuse clears a fault on another lateral),
- is restored after the *switching* time (the breaker trips, the fault is
  isolated by the nearest disconnects, supply comes back from the substation or
  through a normally-open tie), or
- waits for the *repair* (its own lateral or transformer failed, or it is
  tapped inside the isolated zone of a main-feeder fault).

The resulting effect matrix is shared by the analytic indices here and by the
Monte Carlo simulation, so the two differ only in how failures are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

import numpy as np

from .data import DistributionSystemData
from .indices import IEEE_1366_MOMENTARY_THRESHOLD_S, ReliabilityIndices, accumulate_interruptions, reliability_indices
from .topology import Topology, energisable_nodes, isolation_zone


class Restoration(IntEnum):
    """How a load point gets supply back after a component failure."""

    NONE = 0  # not interrupted
    SWITCHING = 1  # after the switching time (isolation, reclose, transfer through a tie)
    REPAIR = 2  # after the component is repaired or replaced


class TransformerAction(str, Enum):
    """What the crew does with a failed 11/0.415 kV transformer (RBTS base case: repair, 200 h)."""

    REPAIR = "repair"
    REPLACEMENT = "replacement"  # the paper's alternative case: a spare is fitted in 10 h


@dataclass(frozen=True)
class FailureModes:
    """Components (line sections, then load-point transformers) and their effect matrix."""

    component_name: tuple[str, ...]
    component_section: np.ndarray  # section index the component belongs to
    is_transformer: np.ndarray  # bool
    failure_rate_per_year: np.ndarray
    repair_hours: np.ndarray  # mean time to restore the component itself (repair or replacement)
    switching_hours: np.ndarray  # mean time to isolate and switch around it
    effect: np.ndarray  # int8 Restoration codes, shape (components, load points)

    def __len__(self) -> int:
        return int(self.failure_rate_per_year.size)


def failure_modes(system: DistributionSystemData, topology: Topology, transformer_action: TransformerAction = TransformerAction.REPAIR) -> FailureModes:
    """Build the effect matrix of every line section and load-point transformer.

    Raises ``ValueError`` if replacement is asked for a transformer without a
    replacement time.
    """
    sections, load_points = system.sections, system.load_points
    n_lp = len(load_points)
    names: list[str] = []
    section_of: list[int] = []
    transformer: list[bool] = []
    rate: list[float] = []
    repair: list[float] = []
    switching: list[float] = []
    rows: list[np.ndarray] = []
    row_of_lp = {int(lp): row for row, lp in enumerate(load_points.load_point_id)}

    for s in range(len(sections)):
        effect = np.full(n_lp, Restoration.NONE, dtype=np.int8)
        on_feeder = topology.feeder_of_load_point == topology.feeder_of_section[s]
        if sections.is_main[s]:
            zone_sections, zone_nodes = isolation_zone(system, topology, s)
            live = energisable_nodes(system, topology, zone_sections, zone_nodes)
            for lp in np.flatnonzero(on_feeder):  # the feeder breaker trips for any main-feeder fault
                tap = int(topology.tap_node_of_load_point[lp])
                effect[lp] = Restoration.SWITCHING if tap in live else Restoration.REPAIR
        else:
            own = row_of_lp[int(sections.load_point_id[s])]
            if not sections.has_fuse[s]:
                # Unfused lateral: the breaker clears it; the rest of the feeder is back
                # once the lateral is disconnected at its tee (Allan et al. 1991, case without fuses).
                effect[on_feeder] = Restoration.SWITCHING
            effect[own] = Restoration.REPAIR
        names.append(f"section {sections.section_id[s]}")
        section_of.append(s)
        transformer.append(False)
        rate.append(float(sections.failure_rate_per_year[s]))
        repair.append(float(sections.repair_hours[s]))
        switching.append(float(sections.switching_hours[s]))
        rows.append(effect)

    for index in np.flatnonzero(~sections.is_main & (sections.transformer_failure_rate_per_year > 0)):
        s = int(index)
        own = row_of_lp[int(sections.load_point_id[s])]
        effect = np.full(n_lp, Restoration.NONE, dtype=np.int8)
        effect[own] = Restoration.REPAIR  # the transformer's own fuse isolates it; only its load point is lost
        if transformer_action is TransformerAction.REPLACEMENT:
            hours = float(sections.transformer_replacement_hours[s])
            if not np.isfinite(hours):
                raise ValueError(f"no transformer replacement time for load point {sections.load_point_id[s]}")
        else:
            hours = float(sections.transformer_repair_hours[s])
        names.append(f"transformer LP{sections.load_point_id[s]}")
        section_of.append(s)
        transformer.append(True)
        rate.append(float(sections.transformer_failure_rate_per_year[s]))
        repair.append(hours)
        switching.append(float(sections.switching_hours[s]))
        rows.append(effect)

    return FailureModes(
        component_name=tuple(names),
        component_section=np.array(section_of, dtype=np.int64),
        is_transformer=np.array(transformer, dtype=bool),
        failure_rate_per_year=np.array(rate),
        repair_hours=np.array(repair),
        switching_hours=np.array(switching),
        effect=np.vstack(rows),
    )


def analytic_indices(
    system: DistributionSystemData,
    topology: Topology,
    modes: FailureModes,
    momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S,
) -> ReliabilityIndices:
    """Expected annual indices by the failure-modes-and-effects method.

    Every (component, load point) pair the component interrupts contributes
    its failure rate to the load point's lambda and rate x duration to U; a
    switching restoration lasts min(switching, repair). Overlapping outages are
    ignored (first-order approximation, as in the paper).
    """
    component, load_point = np.nonzero(modes.effect)
    codes = modes.effect[component, load_point]
    duration = np.where(
        codes == Restoration.SWITCHING,
        np.minimum(modes.switching_hours[component], modes.repair_hours[component]),
        modes.repair_hours[component],
    )
    lps = system.load_points
    totals = accumulate_interruptions(
        load_point,
        duration,
        lps.customers[load_point],
        lps.average_load_kw[load_point],
        len(lps),
        momentary_threshold_hours=momentary_threshold_s / 3600.0,
        weight=modes.failure_rate_per_year[component],
    )
    feeders = [topology.feeder_names[f] for f in topology.feeder_of_load_point]
    return reliability_indices(totals, lps.load_point_id.tolist(), lps.customers, 1.0, feeders)
