"""The YAML shape of a market case file (``configs/pjm5bus_sced.yaml``), for ``cosim validate``.

:func:`cosim.markets.case.case_from_dict` builds the case and checks its bus
references; this schema checks the shape first (unknown keys, missing
fields, non-numbers) so that a broken case file gets one line a problem with
its line number instead of a KeyError when a run reads it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BranchEntry(_Model):
    name: str
    from_bus: str = Field(alias="from")
    to_bus: str = Field(alias="to")
    x_pu: float = Field(gt=0)
    limit_mw: float | None = Field(None, gt=0)


class BlockEntry(_Model):
    mw: float = Field(ge=0)
    price_usd_per_mwh: float


class GeneratorEntry(_Model):
    name: str
    bus: str
    blocks: list[BlockEntry] = Field(min_length=1)


class LoadEntry(_Model):
    name: str
    bus: str
    mw: float


class DrOfferEntry(_Model):
    name: str
    csp: str
    bus: str
    mw: float = Field(ge=0)
    price_usd_per_mwh: float


class PrdEntry(_Model):
    name: str
    bus: str
    mw: float = Field(ge=0)
    threshold_usd_per_mwh: float


class MarketCaseFile(_Model):
    """A DC market case: buses, branches, offers and loads (see :mod:`cosim.markets.case`)."""

    kind: Literal["market_case"] = "market_case"
    name: str = Field(min_length=1)
    description: str = ""
    reference_bus: str
    buses: list[str] = Field(min_length=1)
    branches: list[BranchEntry] = Field(default_factory=list)
    generators: list[GeneratorEntry] = Field(min_length=1)
    loads: list[LoadEntry] = Field(default_factory=list)
    dr_offers: list[DrOfferEntry] = Field(default_factory=list)
    prd: list[PrdEntry] = Field(default_factory=list)
