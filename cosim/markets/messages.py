"""Typed DR and market messages: frozen records with one encode/decode each, over :mod:`cosim.markets.wire`.

Every record is a frozen dataclass deriving from :class:`Record`. Its scalar
and tuple fields travel in the JSON header, its numpy fields as raw arrays,
its fields listed in ``nested`` as lists of smaller records. ``decode``
raises :class:`~cosim.markets.wire.PayloadError` for a payload that is not an
encoding of that record (missing field, wrong shape), so a handler never reads
a dict by string keys. Topics are in ``docs/markets.md``.

Pure code; nothing here knows SimPy or the network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np

from cosim.markets.drplans import PlanRejection
from cosim.markets.wire import PayloadError, decode, encode

R = TypeVar("R", bound="Record")


class Record:
    """Mixin of the message records: ``encode()`` to bytes, ``Cls.decode(bytes)`` back."""

    nested: ClassVar[Mapping[str, type]] = {}

    def encode(self) -> bytes:
        header: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                arrays[f.name] = value
            elif f.name in self.nested:   # flat records: a shallow dict each (asdict deep-copies, 10x slower)
                header[f.name] = [{g.name: _plain(getattr(item, g.name)) for g in dataclasses.fields(item)}
                                  for item in value]
            else:
                header[f.name] = list(value) if isinstance(value, (tuple, frozenset)) else value
        return encode(header, arrays)

    @classmethod
    def decode(cls: type[R], payload: bytes) -> R:
        header, arrays = decode(payload)
        kwargs: dict[str, Any] = {}
        try:
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                if f.name in arrays:
                    kwargs[f.name] = arrays[f.name]
                elif f.name in cls.nested:
                    kwargs[f.name] = tuple(cls.nested[f.name](**item) for item in header[f.name])
                elif f.name in header:
                    value = header[f.name]
                    kwargs[f.name] = tuple(value) if isinstance(value, list) else value
            return cls(**kwargs)
        except (TypeError, KeyError, AttributeError) as error:
            raise PayloadError(f"not a {cls.__name__}: {error}") from None


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, frozenset)) else value


# -- Operations <-> Service Provider: Load Management ------------------------------------------

@dataclasses.dataclass(frozen=True)
class AvailableResource:
    """One cleared Load Management resource in a CSP's availability report."""

    resource_id: str
    zone: str
    zip: str
    lead_time: int
    dr_type: str
    resource_type: str
    available_mw: float


@dataclasses.dataclass(frozen=True)
class LmAvailability(Record):
    """``pjm/lm/available/<csp>``: what each cleared resource of a CSP can shed now."""

    csp: str
    time_s: float
    resources: tuple[AvailableResource, ...]
    nested: ClassVar[Mapping[str, type]] = {"resources": AvailableResource}


@dataclasses.dataclass(frozen=True)
class LmDispatch(Record):
    """``pjm/lm/dispatch/<csp>``: a Load Management group called, sent at its notification time."""

    event_id: str
    zone: str
    subzone_zips: tuple[str, ...]
    dr_type: str
    lead_time: int
    mw: float
    resource_ids: tuple[str, ...]
    start_s: float
    end_s: float


@dataclasses.dataclass(frozen=True)
class LmRelease(Record):
    """``pjm/lm/release/<csp>``: the RTO releases a Load Management event at ``release_s`` (sent then).

    Released before the event's start, the dispatch is cancelled: its groups
    never curtail. Released inside its window, the event ends early: its
    groups restore load at once and are measured only up to the release.
    """

    event_id: str
    release_s: float


@dataclasses.dataclass(frozen=True)
class LmInstructionRecord:
    csp: str
    resource_ids: tuple[str, ...]
    mw: float
    lead_time: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "resource_ids", tuple(self.resource_ids))


@dataclasses.dataclass(frozen=True)
class LmEvent(Record):
    """``pjm/lm/event``: a whole Load Management event, for M&V and settlement."""

    event_id: str
    zone: str
    start_s: float
    end_s: float
    instructions: tuple[LmInstructionRecord, ...]
    nested: ClassVar[Mapping[str, type]] = {"instructions": LmInstructionRecord}


# -- Markets <-> Service Provider / Customer: energy market ------------------------------------

@dataclasses.dataclass(frozen=True)
class LmpMessage(Record):
    """``pjm/lmp/<bus>``: the LMP of the SCED interval [time_s, time_s + interval_s), and the PRD it cleared there."""

    bus: str
    lmp_usd_per_mwh: float
    time_s: float
    interval_s: float
    prd_cleared_mw: float = 0.0


@dataclasses.dataclass(frozen=True)
class EconomicDrOfferRecord:
    name: str
    bus: str
    zone: str
    mw: float
    price_usd_per_mwh: float


@dataclasses.dataclass(frozen=True)
class EconomicOffers(Record):
    """``pjm/sced/offer/<csp>``: a CSP's economic DR offers into the energy market."""

    csp: str
    offers: tuple[EconomicDrOfferRecord, ...]
    nested: ClassVar[Mapping[str, type]] = {"offers": EconomicDrOfferRecord}


@dataclasses.dataclass(frozen=True)
class EconomicDispatch(Record):
    """``pjm/sced/dr/<csp>``: MW of each economic DR offer cleared for [time_s, time_s + interval_s)."""

    csp: str
    time_s: float
    interval_s: float
    names: tuple[str, ...]
    cleared_mw: tuple[float, ...]
    lmp_usd_per_mwh: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class PrdStep:
    """One step of a PRD curve: ``mw`` more reduction at LMPs at or above ``threshold_usd_per_mwh``."""

    zone: str
    bus: str
    mw: float
    threshold_usd_per_mwh: float


@dataclasses.dataclass(frozen=True)
class PrdRegistration(Record):
    """``pjm/prd/register/<provider>``: a provider's PRD curves, as steps per zone."""

    provider: str
    steps: tuple[PrdStep, ...]
    nested: ClassVar[Mapping[str, type]] = {"steps": PrdStep}


@dataclasses.dataclass(frozen=True)
class ZoneTelemetry(Record):
    """``pjm/telemetry/load/<zone>``: metered zone load and the PRD reduction in it, MW."""

    zone: str
    load_mw: float
    prd_reduced_mw: float
    time_s: float


@dataclasses.dataclass(frozen=True)
class CspSettlementMessage(Record):
    """``pjm/settlement/<csp>``: the CSP's settlement of the period, with each site's mean reduction."""

    csp: str
    period: str
    energy_payment_usd: float
    capacity_payment_usd: float
    non_performance_charge_usd: float
    bonus_payment_usd: float
    net_usd: float
    site_index: np.ndarray
    reduction_kw: np.ndarray


# -- Customer -> Service Provider: enrolment and ESI status -------------------------------------

@dataclasses.dataclass(frozen=True)
class EnrolledResource:
    """One site group of a population enrolled with a CSP: a Load Management resource (CSP x zone x ZIP x lead x type)."""

    resource_id: str
    csp: str
    zone: str
    zip: str
    lead_time: int
    dr_type: str
    resource_type: str


@dataclasses.dataclass(frozen=True)
class Enrolment(Record):
    """``pjm/enrol/<csp>``: a population's sites enrolled with a CSP.

    ``site_index`` are the sites' indices in the population, ``site_resource``
    each site's position in ``resources``, ``committed_kw`` what it commits.
    """

    population: str
    csp: str
    resources: tuple[EnrolledResource, ...]
    site_index: np.ndarray
    site_resource: np.ndarray
    committed_kw: np.ndarray
    nested: ClassVar[Mapping[str, type]] = {"resources": EnrolledResource}


@dataclasses.dataclass(frozen=True)
class EsiStatus(Record):
    """``esi/status/<csp>``: per site group of a CSP, the kW it can shed now and the kW its meters measure now.

    ``available_kw`` counts sites not already curtailing; ``metered_kw`` is
    the demand the group's interval meters hold (after any curtailment): what
    an OpenADR VEN reports as the group's telemetry.
    """

    population: str
    csp: str
    time_s: float
    resources: tuple[str, ...]
    available_kw: np.ndarray
    metered_kw: np.ndarray


@dataclasses.dataclass(frozen=True)
class AmiData(Record):
    """``ami/<population>/<csp>``: hourly interval kWh of a CSP's sites (history days and the event day).

    ``weekdays`` gives the weekday (0 = Monday) of each history day,
    ``site_bus`` each site's position in ``buses`` (its pricing node),
    ``segment`` its customer sub-domain (``devices.dr_sites_params.SEGMENTS``).
    A large population sends its sites in ``chunks`` messages, ``chunk`` numbering them from 0.
    """

    population: str
    csp: str
    weekdays: tuple[int, ...]
    buses: tuple[str, ...]
    site_index: np.ndarray
    history_kwh: np.ndarray
    event_day_kwh: np.ndarray
    segment: np.ndarray
    site_bus: np.ndarray
    chunk: int = 0   # interval data comes in chunks of sites (devices' meter_chunk_sites): this one's number
    chunks: int = 1  # and how many make the whole


# -- Service Provider <-> Markets: capacity market and M&V --------------------------------------

@dataclasses.dataclass(frozen=True)
class PlanResource:
    """An existing DR resource of a plan; its end-use sites are the plan's ``site_*`` rows that point at it."""

    resource_id: str
    resource_type: str
    zone: str
    zip: str
    lead_time: int
    dr_type: str
    offer_price_usd_per_mw_day: float


@dataclasses.dataclass(frozen=True)
class PlannedPlanResource:
    """A planned DR resource of a plan (no sites yet): its MW and offer price."""

    resource_id: str
    resource_type: str
    zone: str
    mw: float
    offer_price_usd_per_mw_day: float


@dataclasses.dataclass(frozen=True)
class DrPlanMessage(Record):
    """``pjm/rpm/plan/<csp>``: a CSP's DR plan for the auction.

    ``site_ids``/``site_mw``/``site_resource``: one row per end-use site of an
    existing resource (its id, committed MW, position in ``existing``).
    """

    csp: str
    credit_posted_usd: float
    existing: tuple[PlanResource, ...]
    planned: tuple[PlannedPlanResource, ...]
    site_ids: np.ndarray
    site_mw: np.ndarray
    site_resource: np.ndarray
    nested: ClassVar[Mapping[str, type]] = {"existing": PlanResource, "planned": PlannedPlanResource}


@dataclasses.dataclass(frozen=True)
class RpmResultMessage(Record):
    """``pjm/rpm/result/<csp>`` (retained): the auction's clearing price and what of the CSP's plan cleared."""

    csp: str
    delivery_year: str
    clearing_price_usd_per_mw_day: float
    resource_ids: tuple[str, ...]
    cleared_mw: tuple[float, ...]
    rejections: tuple[PlanRejection, ...]
    nested: ClassVar[Mapping[str, type]] = {"rejections": PlanRejection}


@dataclasses.dataclass(frozen=True)
class MvData(Record):
    """``pjm/mv/<csp>``: a CSP's interval meter data for measurement and verification.

    ``resources``, ``resource_zone`` and ``economic_offer`` are aligned (the
    offer a resource delivers economic DR for, "" for none); per site:
    ``site_resource`` indexes ``resources``; ``eligible`` marks the history
    days a CBL may use; ``economic_hours`` (resources x 24) the hours each
    resource ran economic DR. A CSP's sites may come from several
    populations (an array-backed population, individually emulated premises
    that are populations of one site): ``site_index`` numbers them CSP-wide,
    population ``populations[k]``'s site ``i`` being ``population_offset[k] + i``.
    """

    csp: str
    populations: tuple[str, ...]
    population_offset: tuple[int, ...]
    resources: tuple[str, ...]
    resource_zone: tuple[str, ...]
    economic_offer: tuple[str, ...]
    site_index: np.ndarray
    site_resource: np.ndarray
    history_kwh: np.ndarray
    event_day_kwh: np.ndarray
    eligible: np.ndarray
    economic_hours: np.ndarray


@dataclasses.dataclass(frozen=True)
class SiteCredit(Record):
    """``sp/credit/<csp>``: each site's share of the CSP's settlement of ``period``, as a bill credit ($)."""

    csp: str
    population: str
    period: str
    site_index: np.ndarray
    credit_usd: np.ndarray
