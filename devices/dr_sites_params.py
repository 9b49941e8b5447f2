"""Parameters of an array-backed DR site population (``kind: dr_site_population``), as data.

Kept apart from the device's code so scenario validation and the docs read
the same model without the device runtime. Units in the names; durations
accept ``5min``, ``24h``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cosim.markets.rules import LeadTime
from cosim.scenario.durations import Duration

SEGMENTS = ("home", "building", "industrial")
#: Peak-kW limits of the NIST customer sub-domains (home < 20 kW <= building <= 200 kW < industrial).
SEGMENT_EDGES_KW = (20.0, 200.0)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneSites(_Model):
    zone: str = Field(description="transmission zone name (scenario data)")
    load: str = Field(description="grid load carrying the zone's demand")
    bus: str = Field(description="the zone's pricing node in the market model (LMP topic)")
    base_mw: float = Field(0.0, ge=0, description="peak of the zone's non-DR load")
    base_shape: str = Field("home", description="daily shape of the non-DR load")
    sites: int = Field(ge=0, description="DR end-use sites in the zone")
    zips: list[str] = Field(min_length=1, description="ZIP codes of the zone; sites are spread evenly")
    prd_share: float = Field(0.0, ge=0, le=1, description="share of the zone's sites that are PRD, not Load Management")


class PrdPoint(_Model):
    price_usd_per_mwh: float = Field(description="LMP at or above which this point's reduction applies")
    share: float = Field(gt=0, le=1, description="cumulative share of the zone's PRD MW reduced at that LMP")


class CspShare(_Model):
    csp: str
    share: float = Field(gt=0)


class SiteDataParams(_Model):
    """What every enrolled DR site reports to its CSP, and when: one definition for the population and the gateway.

    A site's committed kW, its meter's history days (the CSP's CBL looks back
    over them), its availability reports and the time its interval data is
    read. The array-backed population (:class:`DrSitesParams`) and an
    individually emulated premise (:class:`EsiEnrolment`) share these fields,
    so the same numbers give the same records.
    """

    commit_factor: float = Field(1.0, gt=0, le=1.5, description="committed kW = factor x reduction at the 12-18 h peak of an average day")
    noise_pct: float = Field(4.0, ge=0, le=50, description="step-to-step variation of a site's demand, %")
    day_sigma_pct: float = Field(5.0, ge=0, le=50, description="day-to-day variation of a site's level, %")
    history_days: int = Field(10, ge=6, le=60, description="days of meter history before the event day (CBL)")
    event_weekday: int = Field(2, ge=0, le=6, description="weekday of the simulated day, 0 = Monday")
    step: Duration = Field(300.0, gt=0, description="seconds between demand updates (divides an hour; 5 min follows each SCED interval)")
    status_interval: Duration = Field(300.0, gt=0, description="seconds between availability reports to the CSPs")
    meter_read_at: Duration = Field(86400.0, gt=0, description="seconds when the day's interval data is sent")

    @model_validator(mode="after")
    def _step_divides_an_hour(self) -> SiteDataParams:
        if 3600.0 % self.step:
            raise ValueError(f"step {self.step} s must divide an hour (the meter's hourly intervals)")
        return self


class DrSitesParams(SiteDataParams):
    broker: str = Field(description="comm node of the MQTT broker the ESIs and meters talk to")
    zones: list[ZoneSites] = Field(min_length=1)
    csps: list[CspShare] = Field(min_length=1)
    site_kw_median: float = Field(60.0, gt=0, description="median site peak kW (lognormal)")
    site_kw_sigma: float = Field(0.8, ge=0, le=3)
    curtail_min: float = Field(0.25, ge=0, le=1, description="smallest share of demand a site's EMS sheds")
    curtail_max: float = Field(0.6, ge=0, le=1)
    lead_time_mix: dict[int, float] = Field(default_factory=lambda: {30: 0.63, 60: 0.05, 120: 0.32},
                                            description="share of sites per lead time (SEED-003 2015/16 mix)")
    emergency_share: float = Field(0.2, ge=0, le=1, description="share of LM sites that are emergency-only")
    hot_day_factor: float = Field(1.1, gt=0, description="level of the simulated (hot) day against an average day")
    prd_curve: list[PrdPoint] = Field(
        default_factory=lambda: [PrdPoint(price_usd_per_mwh=100.0, share=0.5), PrdPoint(price_usd_per_mwh=150.0, share=0.8),
                                 PrdPoint(price_usd_per_mwh=250.0, share=1.0)],
        min_length=1, description="PRD curve: cumulative share of the zone's PRD MW reduced at or above each LMP")
    prd_reduction: float = Field(0.3, ge=0, le=1, description="share of demand a PRD site can shed")
    meter_chunk_sites: int = Field(10_000, ge=1, le=1_000_000, description=(
        "sites per interval-data message (about 1 kB a site with 10 history days): bounded messages keep a slow "
        "link's keep-alive and the sender's memory bounded"))

    @model_validator(mode="after")
    def _check(self) -> DrSitesParams:
        if self.curtail_min > self.curtail_max:
            raise ValueError("curtail_min must not exceed curtail_max")
        bad = [k for k in self.lead_time_mix if k not in {m.value for m in LeadTime}]
        if bad:
            raise ValueError(f"lead_time_mix: lead times must be 30, 60 or 120 minutes, found {bad}")
        if abs(sum(self.lead_time_mix.values()) - 1.0) > 1e-6:
            raise ValueError("lead_time_mix shares must add up to 1")
        prices = [p.price_usd_per_mwh for p in self.prd_curve]
        shares = [p.share for p in self.prd_curve]
        if prices != sorted(set(prices)) or shares != sorted(set(shares)):
            raise ValueError("prd_curve: prices and shares must both strictly increase")
        return self




class EsiEnrolment(SiteDataParams):
    """An individually emulated premise enrolled with a CSP: the one site of its own Load Management resource.

    The gateway enrols, reports and sends interval data exactly as a
    one-site ``dr_site_population`` with these values would (same resource
    id, committed kW, history days and records), so the CSP settles both the
    same way. ``premise`` names the premise whose past days the meter history
    draws from (stream ``customer/<premise>/history``, as a population's
    ``customer/<population>/history``); default: the gateway's id.
    """

    csp: str = Field(description="the Curtailment Service Provider the premise is enrolled with")
    zone: str = Field(description="transmission zone of the premise")
    bus: str = Field(description="the zone's pricing node in the market model")
    zip: str = Field(description="ZIP code of the premise")
    lead_time: LeadTime = Field(LeadTime.MIN_30, description="notification lead time, minutes (30, 60 or 120)")
    emergency: bool = Field(False, description="emergency-only Load Management (else pre-emergency)")
    peak_kw: float = Field(gt=0, description="the premise's peak demand (its sub-domain follows from it)")
    curtail: float = Field(gt=0, le=1, description="share of the premise's demand its EMS sheds when called")
    premise: str | None = Field(None, description="premise whose meter history this is (default: the gateway id)")
    protocol: Literal["mqtt", "openadr"] = Field("mqtt", description=(
        "how the CSP calls the premise (its csp application's protocol): mqtt, its DR signals on "
        "esi/<csp>/<resource>; openadr, the gateway is an OpenADR 2.0b VEN of the CSP's VTN at vtn"))
    vtn: str | None = Field(None, description="comm node of the CSP's VTN (protocol openadr)")
    ven_id: str | None = Field(None, description="VEN id on the wire (protocol openadr; default: the gateway id)")

    @model_validator(mode="after")
    def _vtn_for_openadr(self) -> "EsiEnrolment":
        if self.protocol == "openadr" and self.vtn is None:
            raise ValueError("an enrolment with protocol openadr needs vtn (the comm node of the CSP's VTN)")
        return self
