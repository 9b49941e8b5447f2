"""What a DR site tells its CSP, for one site or a million: resource id, committed kW, meter history, records.

An enrolled site -- a site of the array-backed
:class:`~devices.field.dr_population.DrSitePopulation` or an individually
emulated premise behind its :class:`~devices.field.esi_gateway.EsiGatewayDevice`
-- enrols with its Curtailment Service Provider, reports what it can shed and
sends its interval meter data (the history days the CSP's CBL looks back over
and the event day). Both emulations compute these here and send them as the
same typed records of :mod:`cosim.markets.messages` (``Enrolment``,
``EsiStatus``, ``AmiData``), so the CSP cannot tell them apart and settles
them the same way.

Pure functions over numpy arrays (one entry per site); nothing here knows
SimPy, comm or the grid.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cosim.domains.profiles import HOURLY_DEMAND_PU
from cosim.markets.messages import AmiData
from devices.dr_sites_params import SEGMENT_EDGES_KW, SEGMENTS, SiteDataParams


def segment_of(peak_kw: np.ndarray) -> np.ndarray:
    """NIST customer sub-domain index (into ``SEGMENTS``) of each site from its peak kW."""
    return np.searchsorted(np.array(SEGMENT_EDGES_KW), peak_kw, side="right").astype(np.int64)


def step_shape_pu(step_s: float) -> np.ndarray:
    """(segments, 24) per-unit demand averaged over the step starts within each hour.

    The meter integrates the demand held over each step, so history days
    drawn from this table have the same hourly means as the simulated day.
    """
    starts = np.arange(0.0, 3600.0, step_s) / 3600.0
    out = np.empty((len(SEGMENTS), 24))
    for k, name in enumerate(SEGMENTS):
        shape = np.array(HOURLY_DEMAND_PU[name])
        nxt = np.roll(shape, -1)
        out[k] = (shape[:, None] * (1 - starts) + nxt[:, None] * starts).mean(axis=1)
    return out


def committed_kw(peak_kw: np.ndarray, curtail: np.ndarray, segment: np.ndarray, commit_factor: float,
                 step_s: float) -> np.ndarray:
    """kW each site commits: curtailable share x peak x the highest average-day shape value 12-18 h x factor."""
    event_pu = step_shape_pu(step_s)[:, 12:18].max(axis=1)
    result: np.ndarray = curtail * peak_kw * event_pu[segment] * commit_factor
    return result


def resource_id(csp: str, zone: str, zip_code: str, lead_time_min: int, emergency: bool) -> str:
    """The Load Management resource of a site group (CSP x zone x ZIP x lead time x DR type)."""
    return f"{csp}.{zone}.{zip_code}.{lead_time_min}{'E' if emergency else 'P'}"


def history_kwh(peak_kw: np.ndarray, segment: np.ndarray, params: SiteDataParams, rng: np.random.Generator,
                step_s: float) -> np.ndarray:
    """(sites, days, 24) hourly kWh of ordinary days before the event day, oldest first (float32).

    Each day has a weather level common to all sites, each site a level of
    its own that day (``day_sigma_pct``) and step-to-step noise
    (``noise_pct``, averaged over the hour's steps as the meter does).
    """
    days = params.history_days
    shape = step_shape_pu(step_s)[segment]                                 # (sites, 24)
    system = 1.0 + 0.04 * rng.standard_normal(days)                         # weather of each day
    site_day = np.exp(params.day_sigma_pct / 100.0 * rng.standard_normal((peak_kw.size, days)))
    level = (peak_kw[:, None] * system[None, :] * site_day).astype(np.float32)
    noise = rng.standard_normal((peak_kw.size, days, 24), dtype=np.float32)
    noise *= params.noise_pct / 100.0 / np.sqrt(3600.0 / step_s)            # mean of the hour's steps
    noise += 1.0
    out: np.ndarray = level[:, :, None] * shape[:, None, :].astype(np.float32) * noise
    np.maximum(out, 0.0, out=out)
    return out


def history_weekdays(params: SiteDataParams) -> np.ndarray:
    """(days,) weekday number (0 = Monday) of each history day, oldest first."""
    return (params.event_weekday - np.arange(params.history_days, 0, -1)) % 7


def ami_records(population: str, csp: str, weekdays: np.ndarray, buses: tuple[str, ...], sites: np.ndarray,
                history: np.ndarray, event_kwh: np.ndarray, segment: np.ndarray, site_bus: np.ndarray,
                chunk_sites: int) -> Iterator[AmiData]:
    """The ``ami/<population>/<csp>`` messages of ``sites`` (indices of the population), ``chunk_sites`` at most each.

    Per site of the whole population: ``history`` (sites, days, 24) kWh,
    ``event_kwh`` (24, sites) kWh of the event day (hour-major, as the meter
    fills it), ``segment`` and ``site_bus`` (position in ``buses``). Only the
    rows of ``sites`` are read, chunk by chunk, so a million sites are never
    copied at once. Each message says which chunk of how many it is, so a
    receiver knows when it has them all. A generator: each chunk is built when
    the caller asks for it.
    """
    chunks = max(1, -(-sites.size // chunk_sites))
    for k in range(chunks):
        part = sites[k * chunk_sites:(k + 1) * chunk_sites]
        yield AmiData(population, csp, tuple(int(d) for d in weekdays), buses, part,
                           history[part].astype(np.float32, copy=False),
                           event_kwh[:, part].T.astype(np.float32, copy=False), segment[part], site_bus[part], k, chunks)
