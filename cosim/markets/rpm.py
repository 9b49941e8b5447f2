"""RPM Base Residual Auction clearing: the capacity market three years forward.

The auction buys unforced capacity (UCAP MW) for a delivery year against the
Variable Resource Requirement (VRR) demand curve: a piecewise-linear, downward
sloping curve through a few price/quantity points (PJM's points a, b, c in
$/MW-day and UCAP MW). Generators and demand resources offer MW at $/MW-day;
DR clears as *supply*, exactly like a generator (SEED-003). Price Responsive
Demand (PRD) is the other way round: it is not an offer but a commitment to
consume less when prices are high, so it *shifts the demand curve left* by its
MW at prices at or above its reservation price (SEED-003; OATT-DD).

Clearing method: an exact merit-order walk, not an LP. Welfare under a sloped
demand segment is quadratic in the cleared quantity, so an LP would need the
slope cut into steps and would return an approximate price; the walk finds the
crossing of the (stepped) supply curve and the (piecewise-linear) demand curve
exactly and in O(n log n). Caps on the less-available products (Limited and
Extended Summer DR) are nested (Limited is counted in both caps); with nested
caps and a linear cost, taking the cheapest *feasible* MW first is optimal
(a polymatroid), so the walk stays exact with caps. When a cap binds, the
capped products are paid the offer price of their own marginal cleared offer
(the lowest price that supports their clearing); the difference to the system
price is the price separation PJM publishes for Limited/Extended Summer DR.

Pure functions, wall-clock free; nothing here knows SimPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cosim.markets.rules import ResourceType

_EPS_MW = 1e-9


@dataclass(frozen=True)
class DemandPoint:
    """One vertex of the VRR curve: UCAP MW and $/MW-day."""

    ucap_mw: float
    price_usd_per_mw_day: float


@dataclass(frozen=True)
class CapacityOffer:
    """A sell offer into the auction. DR offers use a DR ``resource_type``."""

    offer_id: str
    seller: str
    resource_type: ResourceType
    ucap_mw: float
    price_usd_per_mw_day: float


@dataclass(frozen=True)
class PrdCommitment:
    """Price Responsive Demand: ``mw`` less load at or above the reservation price."""

    provider: str
    mw: float
    reservation_price_usd_per_mw_day: float


@dataclass(frozen=True)
class ProductCap:
    """At most ``max_ucap_mw`` may clear of ``resource_types`` combined."""

    name: str
    resource_types: frozenset[ResourceType]
    max_ucap_mw: float


@dataclass(frozen=True)
class CapOutcome:
    name: str
    cleared_ucap_mw: float
    binding: bool
    #: Price paid to the capped products; equals the system price if not binding.
    price_usd_per_mw_day: float


@dataclass(frozen=True)
class RpmResult:
    clearing_price_usd_per_mw_day: float
    cleared_ucap_mw: float
    #: offer_id -> cleared MW (0.0 for offers that did not clear).
    cleared_mw: dict[str, float]
    #: offer_id -> $/MW-day that offer is paid (system price or capped price).
    offer_price_paid_usd_per_mw_day: dict[str, float]
    #: offer_id of the partially cleared price-setting offer, if any.
    marginal_offer_id: str | None
    caps: tuple[CapOutcome, ...]


def demand_price(curve: Sequence[DemandPoint], ucap_mw: float) -> float:
    """Price on the curve just left of ``ucap_mw`` ($/MW-day); 0 beyond its end.

    At a vertical step the upper price is returned (the left limit), which is
    what a buyer at that quantity is still willing to pay.
    """
    if ucap_mw <= curve[0].ucap_mw:
        return curve[0].price_usd_per_mw_day
    for left, right in zip(curve, curve[1:]):
        if ucap_mw <= right.ucap_mw + _EPS_MW:
            width = right.ucap_mw - left.ucap_mw
            if width <= _EPS_MW:
                continue  # vertical step: the left limit is the next segment's start
            frac = (ucap_mw - left.ucap_mw) / width
            return left.price_usd_per_mw_day + frac * (
                right.price_usd_per_mw_day - left.price_usd_per_mw_day
            )
    return 0.0


def quantity_demanded(curve: Sequence[DemandPoint], price: float) -> float:
    """Largest UCAP MW at which the curve still pays at least ``price``."""
    best = 0.0
    for left, right in zip(curve, curve[1:]):
        lo_p, hi_p = right.price_usd_per_mw_day, left.price_usd_per_mw_day
        if price <= lo_p:
            best = max(best, right.ucap_mw)
        elif price <= hi_p and hi_p > lo_p:
            frac = (hi_p - price) / (hi_p - lo_p)
            best = max(best, left.ucap_mw + frac * (right.ucap_mw - left.ucap_mw))
    if price <= curve[0].price_usd_per_mw_day:
        best = max(best, curve[0].ucap_mw)
    return best


def shift_for_prd(
    curve: Sequence[DemandPoint], prd: Sequence[PrdCommitment]
) -> tuple[DemandPoint, ...]:
    """The VRR curve moved left by each PRD commitment above its reservation price.

    Quantity demanded at price p becomes Q(p) - sum(PRD MW with reservation
    price <= p); below the reservation price the curve is unchanged, so each
    commitment adds a horizontal step at its price.
    """
    points = tuple(curve)
    for c in prd:
        t = c.reservation_price_usd_per_mw_day
        if t > points[0].price_usd_per_mw_day or c.mw <= 0:
            continue
        q_right = quantity_demanded(points, t)
        # leftmost quantity where the curve has come down to price t
        q_left = q_right
        for left, right in zip(points, points[1:]):
            if right.price_usd_per_mw_day <= t <= left.price_usd_per_mw_day:
                span = left.price_usd_per_mw_day - right.price_usd_per_mw_day
                frac = 0.0 if span <= 0 else (left.price_usd_per_mw_day - t) / span
                q_left = left.ucap_mw + frac * (right.ucap_mw - left.ucap_mw)
                break
        upper = [p for p in points if p.price_usd_per_mw_day > t and p.ucap_mw <= q_left]
        lower = [p for p in points if p.price_usd_per_mw_day < t and p.ucap_mw >= q_right]
        moved = [DemandPoint(p.ucap_mw - c.mw, p.price_usd_per_mw_day) for p in upper]
        moved += [DemandPoint(q_left - c.mw, t), DemandPoint(q_right - c.mw, t), DemandPoint(q_right, t)]
        points = _clip_at_zero(tuple(moved + lower))
    return points


def _clip_at_zero(points: tuple[DemandPoint, ...]) -> tuple[DemandPoint, ...]:
    """Cut the part of a shifted curve that moved left of 0 MW."""
    out: list[DemandPoint] = []
    for left, right in zip(points, points[1:]):
        if right.ucap_mw < 0:
            continue
        if left.ucap_mw < 0 <= right.ucap_mw and not out:
            frac = -left.ucap_mw / (right.ucap_mw - left.ucap_mw)
            price = left.price_usd_per_mw_day + frac * (
                right.price_usd_per_mw_day - left.price_usd_per_mw_day
            )
            out.append(DemandPoint(0.0, price))
        elif not out:
            out.append(left)
        out.append(right)
    return tuple(out) if out else (DemandPoint(0.0, 0.0), DemandPoint(0.0, 0.0))


def clear_rpm(
    curve: Sequence[DemandPoint],
    offers: Sequence[CapacityOffer],
    prd: Sequence[PrdCommitment] = (),
    caps: Sequence[ProductCap] = (),
) -> RpmResult:
    """Clear a Base Residual Auction; prices in $/MW-day, quantities in UCAP MW.

    ``curve`` must be non-decreasing in MW and non-increasing in price.
    Ties between equal-priced offers clear in ``offer_id`` order, so the
    result is deterministic. Raises ValueError on a malformed curve or offer.
    """
    _check_curve(curve)
    for o in offers:
        if o.ucap_mw < 0 or o.price_usd_per_mw_day < 0:
            raise ValueError(f"offer {o.offer_id}: negative MW or price")
    demand = shift_for_prd(curve, prd)
    order = sorted(offers, key=lambda o: (o.price_usd_per_mw_day, o.offer_id))
    cap_left = {c.name: c.max_ucap_mw for c in caps}
    cleared = {o.offer_id: 0.0 for o in offers}
    last_capped_price = {c.name: 0.0 for c in caps}
    cap_hit = {c.name: False for c in caps}

    total = 0.0
    prev_price = 0.0
    price: float | None = None
    marginal: str | None = None
    for o in order:
        mine = [c for c in caps if o.resource_type in c.resource_types]
        room = min([o.ucap_mw] + [cap_left[c.name] for c in mine])
        if room < o.ucap_mw - _EPS_MW:
            for c in mine:
                if cap_left[c.name] <= room + _EPS_MW:
                    cap_hit[c.name] = True
        if room <= _EPS_MW:
            continue
        wanted = quantity_demanded(demand, o.price_usd_per_mw_day) - total
        if wanted <= _EPS_MW:
            # Supply is vertical at `total`: the demand curve sets the price.
            price = min(o.price_usd_per_mw_day, max(prev_price, demand_price(demand, total)))
            break
        take = min(room, wanted)
        cleared[o.offer_id] = take
        total += take
        prev_price = o.price_usd_per_mw_day
        for c in mine:
            cap_left[c.name] -= take
            last_capped_price[c.name] = o.price_usd_per_mw_day
        if take < o.ucap_mw - _EPS_MW and take >= wanted - _EPS_MW:
            price = o.price_usd_per_mw_day  # horizontal crossing: this offer is marginal
            marginal = o.offer_id
            break
    if price is None:  # supply ran out before demand did
        price = max(prev_price, demand_price(demand, total))

    outcomes = []
    for c in caps:
        binding = cap_hit[c.name] and cap_left[c.name] <= _EPS_MW
        p = min(price, last_capped_price[c.name]) if binding else price
        outcomes.append(CapOutcome(c.name, c.max_ucap_mw - cap_left[c.name], binding, p))
    paid: dict[str, float] = {}
    for o in offers:
        p = price
        for c, out in zip(caps, outcomes):
            if o.resource_type in c.resource_types and out.binding:
                p = min(p, out.price_usd_per_mw_day)
        paid[o.offer_id] = p if cleared[o.offer_id] > 0 else 0.0
    return RpmResult(price, total, cleared, paid, marginal, tuple(outcomes))


def _check_curve(curve: Sequence[DemandPoint]) -> None:
    if len(curve) < 2:
        raise ValueError("VRR curve needs at least two points")
    for a, b in zip(curve, curve[1:]):
        if b.ucap_mw < a.ucap_mw or b.price_usd_per_mw_day > a.price_usd_per_mw_day:
            raise ValueError(
                "VRR curve must be non-decreasing in MW and non-increasing in price: "
                f"{a} -> {b}"
            )
