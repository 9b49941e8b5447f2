"""DR plans: what a Curtailment Service Provider may offer, checked before the auction.

Before an RPM auction each CSP submits a DR plan made of *existing* resources
(end-use sites already registered with the market operator, with their site
ids and MW) and *planned* resources (not yet registered, for which the CSP
must post credit). The market operator reviews the plans, looks for end-use
sites that several CSPs claim (double counting), and only approved plans may be
offered (SEED-003). This module is that review, as one pure function that
collects *every* problem, each with a reason naming CSP, resource and rule.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

from cosim.markets.rules import (
    MIN_DR_SIZE_MW,
    PLANNED_DR_CREDIT_USD_PER_MW,
    ResourceType,
)


@dataclass(frozen=True)
class EndUseSite:
    """A registered customer site behind a DR resource."""

    site_id: str
    mw: float


@dataclass(frozen=True)
class ExistingResource:
    resource_id: str
    resource_type: ResourceType
    zone: str
    sites: tuple[EndUseSite, ...]

    @property
    def mw(self) -> float:
        return sum(s.mw for s in self.sites)


@dataclass(frozen=True)
class PlannedResource:
    resource_id: str
    resource_type: ResourceType
    zone: str
    mw: float


@dataclass(frozen=True)
class DrPlan:
    csp: str
    existing: tuple[ExistingResource, ...]
    planned: tuple[PlannedResource, ...]
    credit_posted_usd: float


@dataclass(frozen=True)
class PlanRejection:
    csp: str
    resource_id: str
    rule: str
    reason: str


@dataclass(frozen=True)
class PlanReview:
    approved_mw: Mapping[tuple[str, str], float]  # (csp, resource_id) -> MW
    rejections: tuple[PlanRejection, ...]

    @property
    def ok(self) -> bool:
        return not self.rejections


def validate_dr_plans(
    plans: Sequence[DrPlan],
    min_size_mw: Mapping[ResourceType, float] = MIN_DR_SIZE_MW,
    credit_usd_per_mw: float = PLANNED_DR_CREDIT_USD_PER_MW,
) -> PlanReview:
    """Review all CSPs' plans together; never raises on bad plans.

    Rules, in the order reported:

    * ``double_counting`` -- an end-use site listed by more than one resource
      (across CSPs or within one); every listing is rejected and each reason
      names all the listings.
    * ``minimum_size`` -- a resource below the minimum MW for its type.
    * ``planned_credit`` -- planned MW x credit rate exceeds the credit the CSP
      posted; the CSP's planned resources are all rejected (credit is posted
      per plan, so the operator cannot choose which planned MW it covers).
    """
    rejections: list[PlanRejection] = []
    rejected: set[tuple[str, str]] = set()

    listings: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for plan in plans:
        for res in plan.existing:
            for site in res.sites:
                listings[site.site_id].append((plan.csp, res.resource_id))
    for site_id in sorted(listings):
        claims = listings[site_id]
        if len(claims) < 2:
            continue
        named = ", ".join(f"{csp}/{rid}" for csp, rid in claims)
        for csp, rid in claims:
            rejections.append(PlanRejection(
                csp, rid, "double_counting",
                f"CSP {csp} resource {rid}: end-use site {site_id} is listed {len(claims)} times "
                f"({named}); a site may back only one DR resource",
            ))
            rejected.add((csp, rid))

    for plan in plans:
        resources = _resources(plan)
        for resource in resources:
            floor = min_size_mw.get(resource.resource_type)
            if floor is not None and resource.mw < floor - 1e-12:
                rejections.append(PlanRejection(
                    plan.csp, resource.resource_id, "minimum_size",
                    f"CSP {plan.csp} resource {resource.resource_id}: {resource.mw:.3f} MW is below the "
                    f"{floor:.3f} MW minimum for {resource.resource_type.value} DR",
                ))
                rejected.add((plan.csp, resource.resource_id))

        planned_mw = sum(p.mw for p in plan.planned)
        needed = planned_mw * credit_usd_per_mw
        if plan.planned and plan.credit_posted_usd + 1e-9 < needed:
            for p in plan.planned:
                rejections.append(PlanRejection(
                    plan.csp, p.resource_id, "planned_credit",
                    f"CSP {plan.csp} planned resource {p.resource_id}: credit posted "
                    f"${plan.credit_posted_usd:,.2f} < ${needed:,.2f} required for {planned_mw:.3f} "
                    f"planned MW at ${credit_usd_per_mw:,.2f}/MW",
                ))
                rejected.add((plan.csp, p.resource_id))

    approved = {
        (plan.csp, listed.resource_id): listed.mw
        for plan in plans
        for listed in _resources(plan)
        if (plan.csp, listed.resource_id) not in rejected
    }
    return PlanReview(approved, tuple(rejections))


def _resources(plan: DrPlan) -> list[ExistingResource | PlannedResource]:
    """A plan's existing and planned resources, in that order."""
    return [*plan.existing, *plan.planned]
