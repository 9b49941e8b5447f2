"""Load Management dispatch selection: which DR to call for a reserve shortfall.

PJM calls Load Management (emergency DR) when reserves are about to run
short, in *groups*, not resource by resource: a group is one resource type
(pre-emergency or emergency) x one location (a transmission zone, or a
sub-zone defined as a set of ZIP codes) x one lead time (30, 60 or 120 min);
the seed counts 2 x 13 x 3 = 78 such options for the whole RTO (SEED-003; the
zone count is scenario data). The MW that a group will deliver is what its
CSPs report as available in real time, not what they registered.

Selection rules, in this order (documented choice, see docs/markets.md):

1. Location: only registrations in the shortfall's zone; if a sub-zone is
   given, only those whose ZIP code is in it.
2. Lead time: only groups whose lead time fits the notice available.
3. Type: pre-emergency groups first; emergency groups only when an emergency
   has been declared (SEED-003: emergency DR needs a NERC EEA declaration).
4. Within a type: the longest lead time that fits first. Those resources must
   be notified earliest and could not help a later, shorter-notice shortfall;
   keeping the 30-minute DR back preserves the operator's quickest tool.
5. Whole groups are called until the available MW covers the shortfall; the
   last group may overshoot (PJM cannot call a fraction of a group).

Every resource is notified at (shortfall start - its lead time) so that it
is reduced by the start.

Availability (PJM Manual 18 and OATT Attachment DD product definitions, data
in :data:`cosim.markets.rules.AVAILABILITY`): a resource whose product may not
be called for this event -- month, weekdays, hours of the day, length of the
call, number of calls this delivery year -- is left out before selection and
listed in :attr:`DispatchPlan.refused` with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from cosim.markets.rules import AVAILABILITY, DrType, LeadTime, ResourceType


@dataclass(frozen=True)
class LmRegistration:
    """A Load Management resource with the MW its CSP reports available now."""

    csp: str
    resource_id: str
    dr_type: DrType
    zone: str
    zip_code: str
    lead_time: LeadTime
    available_mw: float
    resource_type: ResourceType = ResourceType.ANNUAL


@dataclass(frozen=True)
class CallCalendar:
    """When the call falls: month (1-12), weekday or not, and its hours of the day [start, end)."""

    month: int
    weekday: bool
    start_hour: float
    end_hour: float


@dataclass(frozen=True)
class RefusedCall:
    csp: str
    resource_id: str
    reason: str


@dataclass(frozen=True)
class ReserveShortfall:
    mw: float
    zone: str
    start_s: float               # simulated time the reduction is needed
    notice_min: float            # minutes between now and start_s
    subzone_zips: frozenset[str] | None = None
    emergency_declared: bool = False


@dataclass(frozen=True)
class DispatchInstruction:
    """What the operator sends one CSP for one group."""

    csp: str
    dr_type: DrType
    zone: str
    subzone_zips: frozenset[str] | None
    lead_time: LeadTime
    mw: float
    resource_ids: tuple[str, ...]
    notify_at_s: float
    start_s: float


@dataclass(frozen=True)
class DispatchPlan:
    instructions: tuple[DispatchInstruction, ...]
    dispatched_mw: float
    uncovered_mw: float          # > 0 when eligible DR could not cover the shortfall
    refused: tuple[RefusedCall, ...] = ()


def select_load_management(
    registrations: tuple[LmRegistration, ...] | list[LmRegistration],
    shortfall: ReserveShortfall,
    calendar: CallCalendar | None = None,
    calls_so_far: Mapping[str, int] | None = None,
) -> DispatchPlan:
    """Choose groups for ``shortfall``; MW in MW, times in simulated seconds.

    With a ``calendar``, each resource's product availability is checked
    (``calls_so_far``: calls per resource id this delivery year).
    """
    allowed_types = [DrType.PRE_EMERGENCY] + ([DrType.EMERGENCY] if shortfall.emergency_declared else [])
    groups: dict[tuple[DrType, LeadTime], list[LmRegistration]] = defaultdict(list)
    refused: list[RefusedCall] = []
    for r in registrations:
        if r.zone != shortfall.zone or r.available_mw <= 0:
            continue
        if shortfall.subzone_zips is not None and r.zip_code not in shortfall.subzone_zips:
            continue
        if r.lead_time.value > shortfall.notice_min or r.dr_type not in allowed_types:
            continue
        if calendar is not None:
            reason = AVAILABILITY[r.resource_type].refusal(
                calendar.month, calendar.weekday, calendar.start_hour, calendar.end_hour,
                (calls_so_far or {}).get(r.resource_id, 0))
            if reason is not None:
                refused.append(RefusedCall(r.csp, r.resource_id, f"{r.resource_type.value} DR: {reason}"))
                continue
        groups[(r.dr_type, r.lead_time)].append(r)

    order = sorted(groups, key=lambda k: (allowed_types.index(k[0]), -k[1].value))
    instructions: list[DispatchInstruction] = []
    total = 0.0
    for dr_type, lead in order:
        if total >= shortfall.mw - 1e-9:
            break
        by_csp: dict[str, list[LmRegistration]] = defaultdict(list)
        for r in groups[(dr_type, lead)]:
            by_csp[r.csp].append(r)
        for csp in sorted(by_csp):
            regs = sorted(by_csp[csp], key=lambda r: r.resource_id)
            mw = sum(r.available_mw for r in regs)
            instructions.append(DispatchInstruction(
                csp, dr_type, shortfall.zone, shortfall.subzone_zips, lead, mw,
                tuple(r.resource_id for r in regs),
                shortfall.start_s - 60.0 * lead.value, shortfall.start_s,
            ))
            total += mw
    return DispatchPlan(tuple(instructions), total, max(0.0, shortfall.mw - total), tuple(refused))
