"""The shape of a scenario file, as pydantic models (one per YAML section).

Field names are the YAML keys. Every model forbids unknown keys, so a typo is
reported instead of silently ignored. Cross-references (an association naming
an unknown actor, an application in the wrong domain) are checked afterwards
by :mod:`cosim.scenario.checks`, which needs the whole file at once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from ..nist import AssociationKind, Domain
from ..outpaths import is_component
from .durations import Duration


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_domain(value: Any) -> Domain:
    if isinstance(value, Domain):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a domain name")
    try:
        return Domain.parse(value)
    except ValueError:
        names = ", ".join(repr(d.value) for d in Domain)
        raise ValueError(f"{value!r} is not one of {names}") from None


def _parse_association_kind(value: Any) -> AssociationKind:
    try:
        return AssociationKind(value)
    except ValueError:
        names = ", ".join(repr(k.value) for k in AssociationKind)
        raise ValueError(f"{value!r} is not one of {names}") from None


def _parse_start_utc(value: Any) -> datetime | Literal["now"]:
    """An ISO 8601 instant with its UTC offset (YAML may already have made it a datetime), or ``now``."""
    if value == "now":
        return "now"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time such as 2026-06-01T12:00:00Z, nor 'now'") from None
    if not isinstance(value, datetime):
        raise ValueError(  # noqa: TRY004 -- pydantic reports a ValueError as the field's validation error
            f"{value!r} is not an ISO 8601 time such as 2026-06-01T12:00:00Z, nor 'now'")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset: write it as 2026-06-01T12:00:00Z or with +hh:mm")
    if value.year < 1970:
        raise ValueError(f"{value.isoformat()} is before 1970: device time stamps count seconds since 1970 UTC")
    return value.astimezone(timezone.utc)


StartUtc = Annotated[datetime | Literal["now"], BeforeValidator(_parse_start_utc)]
DEFAULT_START_UTC = datetime(2026, 1, 1, tzinfo=timezone.utc)

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$", min_length=1, max_length=100),
]
def _path_name(value: str) -> str:
    if not is_component(value) or len(value) > 100:
        raise ValueError(f"{value!r} is not a name for a results folder: use letters, digits, '_', '.' and '-' "
                         "(at most 100, no '/', not starting with '.')")
    return value


PathName = Annotated[str, AfterValidator(_path_name)]
"""A name that becomes one folder of results: no '/', never '.' or '..' (see cosim.outpaths)."""
DomainName = Annotated[Domain, BeforeValidator(_parse_domain)]
AssociationKindName = Annotated[AssociationKind, BeforeValidator(_parse_association_kind)]


class RunSection(Section):
    """How long and how: simulated duration, application step, seed, clock."""

    duration: Duration = Field(gt=0, description="simulated time to run, e.g. '1d'")
    step: Duration = Field(900.0, gt=0, description="default application step, e.g. '15min'")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    mode: Literal["batch", "realtime"] = "batch"
    realtime_factor: float = Field(1.0, gt=0, description="simulated seconds per wall second in realtime mode")
    start_utc: StartUtc | None = Field(None, description=(
        "UTC instant of simulated time 0 for device clocks (PMU SOC/FRACSEC, SOE time stamps), e.g. "
        "'2026-06-01T12:00:00Z'; 'now': the wall clock when the run starts; default: 2026-01-01T00:00:00Z in "
        "batch mode (reproducible), 'now' in realtime mode (hardware in the loop)"))


class ApplicationSection(Section):
    kind: str = Field(description="registered application kind, see `cosim apps`")
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ActorSection(Section):
    id: Identifier
    domain: DomainName
    role: str = Field(min_length=1, description="what the actor is, e.g. 'Substation RTU'")
    name: str | None = None
    peak_kw: float | None = Field(None, ge=0, description="Customer actors: peak demand, gives the sub-domain")
    elements: list[str] = Field(default_factory=list, description="grid elements the actor owns, as kind/name (bus/dx_mv)")
    applications: list[ApplicationSection] = Field(default_factory=list)


class AssociationSection(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: Identifier = Field(alias="from")
    target: Identifier = Field(alias="to")
    kind: AssociationKindName
    label: str = ""


class EventSection(Section):
    """A scheduled happening: ``at`` a simulated time, an event ``kind`` on a ``target``."""

    at: Duration
    kind: str
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ScenarioFile(Section):
    """A whole scenario file."""

    kind: Literal["scenario"] = "scenario"
    name: PathName
    description: str = ""
    run: RunSection
    actors: list[ActorSection] = Field(min_length=1)
    associations: list[AssociationSection] = Field(default_factory=list)
    # Sections filled in by the layers; validated by their own models when present.
    grid: dict[str, Any] | None = None
    comm: dict[str, Any] | None = None
    devices: list[dict[str, Any]] = Field(default_factory=list)
    programs: dict[str, Any] | None = None
    events: list[EventSection] = Field(default_factory=list)
