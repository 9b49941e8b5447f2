"""Link delay models and the table of typical link profiles.

A link's one-way delay per message is

    queueing (FIFO, one message at a time per direction)
  + serialisation  = (size_bytes + overhead_bytes) * 8 / bandwidth_bps
  + latency        drawn from a :class:`Delay` (fixed or a distribution)
  + jitter         uniform in [0, jitter_s)

All times are simulated seconds. The numbers in :data:`LINK_PROFILES` are
typical values, not measurements of any one network; docs/comm.md gives the
source and reasoning for each.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np


class DelayKind(enum.Enum):
    FIXED = "fixed"
    NORMAL = "normal"        # truncated at zero
    LOGNORMAL = "lognormal"  # median_s * exp(sigma * N(0, 1)): heavy right tail of radio links
    UNIFORM = "uniform"


@dataclass(frozen=True)
class Delay:
    """A one-way latency distribution in seconds.

    ``FIXED`` uses ``value_s``; ``NORMAL`` ``mean_s``/``std_s``; ``LOGNORMAL``
    ``median_s``/``sigma`` (sigma of the underlying normal, dimensionless);
    ``UNIFORM`` ``low_s``/``high_s``.
    """

    kind: DelayKind = DelayKind.FIXED
    value_s: float = 0.0
    mean_s: float = 0.0
    std_s: float = 0.0
    median_s: float = 0.0
    sigma: float = 0.0
    low_s: float = 0.0
    high_s: float = 0.0

    @staticmethod
    def fixed(value_s: float) -> "Delay":
        return Delay(DelayKind.FIXED, value_s=value_s)

    @staticmethod
    def normal(mean_s: float, std_s: float) -> "Delay":
        return Delay(DelayKind.NORMAL, mean_s=mean_s, std_s=std_s)

    @staticmethod
    def lognormal(median_s: float, sigma: float) -> "Delay":
        return Delay(DelayKind.LOGNORMAL, median_s=median_s, sigma=sigma)

    @staticmethod
    def uniform(low_s: float, high_s: float) -> "Delay":
        return Delay(DelayKind.UNIFORM, low_s=low_s, high_s=high_s)

    @property
    def is_random(self) -> bool:
        return self.kind is not DelayKind.FIXED

    @property
    def mean(self) -> float:
        """Expected value in seconds; the routing weight of a link."""
        if self.kind is DelayKind.FIXED:
            return self.value_s
        if self.kind is DelayKind.NORMAL:
            return self.mean_s
        if self.kind is DelayKind.LOGNORMAL:
            return self.median_s * math.exp(self.sigma**2 / 2.0)
        return (self.low_s + self.high_s) / 2.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` non-negative draws (seconds) from ``rng``."""
        if self.kind is DelayKind.FIXED:
            return np.full(n, self.value_s)
        if self.kind is DelayKind.NORMAL:
            return np.maximum(rng.normal(self.mean_s, self.std_s, n), 0.0)
        if self.kind is DelayKind.LOGNORMAL:
            return self.median_s * np.exp(self.sigma * rng.standard_normal(n))
        return rng.uniform(self.low_s, self.high_s, n)


@dataclass(frozen=True)
class LinkProfile:
    """Parameters of one kind of link; see docs/comm.md for sources."""

    name: str
    latency: Delay
    jitter_s: float
    bandwidth_bps: float
    loss: float
    overhead_bytes: int  # per-message header bytes below the application (TCP/IP, MAC, ...)
    description: str


LINK_PROFILES: dict[str, LinkProfile] = {
    p.name: p
    for p in (
        LinkProfile("lan", Delay.fixed(0.0002), 0.00005, 100e6, 1e-6, 58,
                    "switched Ethernet inside a substation or control centre"),
        LinkProfile("fibre_wan", Delay.lognormal(0.005, 0.2), 0.0005, 100e6, 1e-5, 58,
                    "utility fibre / MPLS WAN, a few hundred km"),
        LinkProfile("lte", Delay.lognormal(0.030, 0.4), 0.010, 5e6, 1e-3, 60,
                    "public 4G LTE cellular, uplink-limited"),
        LinkProfile("ami_rf_mesh", Delay.lognormal(0.5, 0.6), 0.050, 50e3, 0.02, 40,
                    "900 MHz IEEE 802.15.4g (Wi-SUN class) RF mesh, several hops to the collector"),
        LinkProfile("plc", Delay.lognormal(0.2, 0.5), 0.020, 20e3, 0.02, 40,
                    "narrowband power-line carrier (G3-PLC / PRIME class)"),
        LinkProfile("satellite", Delay.normal(0.280, 0.020), 0.010, 2e6, 1e-3, 60,
                    "geostationary VSAT, one way ground-satellite-ground"),
    )
}
"""Typical link profiles by name (scenario ``links[].profile``)."""
