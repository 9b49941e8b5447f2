"""The NIST Smart Grid Conceptual Model as code: domains, actors, applications, associations.

Vocabulary of NIST SP 1108 (Framework and Roadmap for Smart Grid
Interoperability Standards), section 3:

* an *actor* is a device, computer system, software program or the organisation
  owning it; it makes decisions and exchanges information through interfaces;
* an *application* is a task performed by one or more actors in a domain;
* a *domain* groups actors with common interface characteristics (a domain is
  not an organisation: an ISO/RTO has actors in both Markets and Operations);
* an *association* is a logical, bidirectional connection between two actors,
  either *electrical* (energy flows) or *communication* (information flows).

Electrical flows in the model only run through Bulk Generation, Transmission,
Distribution and Customer; Markets, Operations and Service Provider exchange
information only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping


class Domain(enum.Enum):
    """The seven domains of the conceptual model (NIST SP 1108, Figure 3-1)."""

    BULK_GENERATION = "Bulk Generation"
    TRANSMISSION = "Transmission"
    DISTRIBUTION = "Distribution"
    CUSTOMER = "Customer"
    OPERATIONS = "Operations"
    MARKETS = "Markets"
    SERVICE_PROVIDER = "Service Provider"

    @property
    def slug(self) -> str:
        """Snake-case identifier, e.g. ``bulk_generation`` (also accepted in scenarios)."""
        return self.name.lower()

    @property
    def carries_power(self) -> bool:
        """Whether actors of this domain can have electrical associations."""
        return self in ELECTRICAL_DOMAINS

    @classmethod
    def parse(cls, text: str) -> "Domain":
        """Accept the display name (``Service Provider``) or the slug (``service_provider``)."""
        for domain in cls:
            if text in (domain.value, domain.slug):
                return domain
        raise ValueError(text)


ELECTRICAL_DOMAINS = frozenset({Domain.BULK_GENERATION, Domain.TRANSMISSION, Domain.DISTRIBUTION, Domain.CUSTOMER})


class AssociationKind(enum.Enum):
    """The two kinds of interface drawn in the conceptual model."""

    ELECTRICAL = "electrical"
    COMMUNICATION = "communication"


class CustomerSegment(enum.Enum):
    """Customer sub-domains by demand, as the NIST model's walk-through draws them."""

    HOME = "home"                # < 20 kW
    BUILDING = "building"        # 20 kW .. 200 kW (commercial)
    INDUSTRIAL = "industrial"    # > 200 kW

    @classmethod
    def for_peak_kw(cls, peak_kw: float) -> "CustomerSegment":
        if peak_kw < 20.0:
            return cls.HOME
        if peak_kw <= 200.0:
            return cls.BUILDING
        return cls.INDUSTRIAL


@dataclass(frozen=True)
class Application:
    """A task an actor performs; ``kind`` selects its behaviour, ``params`` configure it."""

    kind: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    """A device, system or organisation inside one domain."""

    actor_id: str
    domain: Domain
    role: str
    name: str
    applications: tuple[Application, ...] = ()
    peak_kw: float | None = None
    elements: tuple[str, ...] = ()  # grid elements owned, as kind/name references

    @property
    def segment(self) -> CustomerSegment | None:
        """The customer sub-domain, for Customer actors with a stated peak demand."""
        if self.domain is Domain.CUSTOMER and self.peak_kw is not None:
            return CustomerSegment.for_peak_kw(self.peak_kw)
        return None


@dataclass(frozen=True)
class Association:
    """A bidirectional electrical or communication interface between two actors."""

    source: str
    target: str
    kind: AssociationKind
    label: str = ""


@dataclass(frozen=True)
class SmartGridModel:
    """The actors and associations of one scenario, with the views the tools need."""

    actors: tuple[Actor, ...]
    associations: tuple[Association, ...]
    device_owners: Mapping[str, str] = field(default_factory=dict)  # device id -> owning actor id

    def actor(self, actor_id: str) -> Actor:
        for actor in self.actors:
            if actor.actor_id == actor_id:
                return actor
        raise KeyError(actor_id)

    def actors_in(self, domain: Domain) -> tuple[Actor, ...]:
        return tuple(actor for actor in self.actors if actor.domain is domain)

    def associations_of(self, actor_id: str, kind: AssociationKind | None = None) -> Iterator[Association]:
        for association in self.associations:
            if actor_id in (association.source, association.target) and kind in (None, association.kind):
                yield association

    def interfaces(self) -> dict[tuple[Domain, Domain, AssociationKind], int]:
        """Count associations by (domain, domain, kind), domains in declaration order."""
        order = list(Domain)
        counts: dict[tuple[Domain, Domain, AssociationKind], int] = {}
        for association in self.associations:
            a = self.actor(association.source).domain
            b = self.actor(association.target).domain
            if order.index(b) < order.index(a):
                a, b = b, a
            key = (a, b, association.kind)
            counts[key] = counts.get(key, 0) + 1
        return counts
