"""The one ESI model: DR signal payloads and the load-control rule, for one premise or thousands.

An Energy Services Interface receives price and demand-response signals and,
as the premise's load controller, sheds the controllable load while an event
it has not opted out of runs. The individually emulated
:class:`~devices.field.esi_gateway.EsiGatewayDevice` and the array-backed
:class:`~devices.field.dr_population.DrSitePopulation` use what is here, so a
premise behaves and talks the same whichever way the scenario emulates it.
Data and pure functions (no device runtime), so the Service Provider's CSP
encodes its calls with the same :class:`DrSignal`:

* :class:`DrSignal` and :class:`PriceMessage` -- the MQTT payloads (JSON, one
  ``encode``/``decode`` each; ``decode`` raises :class:`SignalError`);
* :class:`CallBook` -- the calls a premise (or a group of premises called
  together) holds: a newer signal with the same key replaces the call (an
  older one, such as a late retransmission, does not), the deepest running
  call sets the reduction;
* :func:`served_demand` -- the demand the premise draws given its natural
  demand and the event it is in (vectorised: scalars or numpy arrays).

Pure functions and frozen records; nothing here knows SimPy, comm or the grid.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Largest event id the gateway's ``dr_event_id`` holding register can hold.
MAX_EVENT_ID = 65535


class SignalError(ValueError):
    """A price or DR payload that is not valid JSON of the documented shape."""


@dataclasses.dataclass(frozen=True)
class DrSignal:
    """A demand-response event sent to an ESI (``<topic>/dr`` or ``esi/<csp>/<resource>``).

    ``start_s`` is simulated time (None: start on receipt); ``reduction_pct`` is
    the share of the premise's demand to shed; ``demand_limit_w`` > 0 caps the
    premise's demand during the event as well. ``label`` is the issuer's name
    for the call (a Load Management event id, an economic DR offer): a new
    signal with the same label replaces the call it names, so an instruction
    can be extended, changed or released (``reduction_pct`` 0).
    """

    event_id: int
    duration_s: float
    start_s: float | None = None
    reduction_pct: float = 0.0
    demand_limit_w: float = 0.0
    label: str = ""

    @property
    def key(self) -> str:
        """What identifies the call a signal replaces: its label, or its event id."""
        return self.label or str(self.event_id)

    def window(self, received_s: float) -> tuple[float, float]:
        """(start, end) in simulated s of the call, for a signal received at ``received_s``.

        The premise's EMS holds a signal with a future start until then (the
        lead time lets slow processes prepare); without ``start_s`` the call
        starts on receipt.
        """
        start = received_s if self.start_s is None else self.start_s
        return start, start + self.duration_s

    def encode(self) -> bytes:
        body: dict[str, Any] = {"event_id": self.event_id, "duration_s": self.duration_s,
                                "reduction_pct": self.reduction_pct, "demand_limit_w": self.demand_limit_w}
        if self.start_s is not None:
            body["start_s"] = self.start_s
        if self.label:
            body["label"] = self.label
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> DrSignal:
        try:
            data = json.loads(payload)
            start = data.get("start_s")
            signal = cls(int(data["event_id"]), float(data["duration_s"]), None if start is None else float(start),
                         float(data.get("reduction_pct", 0.0)), float(data.get("demand_limit_w", 0.0)),
                         str(data.get("label", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SignalError(f"bad DR signal: {error}") from None
        if not (0 <= signal.event_id <= MAX_EVENT_ID and signal.duration_s > 0 and 0 <= signal.reduction_pct <= 100
                and signal.demand_limit_w >= 0 and (signal.start_s is None or math.isfinite(signal.start_s))):
            raise SignalError("DR signal needs event_id 0..65535, duration_s > 0, reduction_pct 0..100, "
                              "demand_limit_w >= 0")
        return signal


@dataclasses.dataclass(frozen=True)
class PriceMessage:
    """A price signal to an ESI (``<topic>/price``); tiers count from 1 (the lowest)."""

    price_per_kwh: float
    tier: int = 1

    def encode(self) -> bytes:
        return json.dumps({"price_per_kwh": self.price_per_kwh, "tier": self.tier}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> PriceMessage:
        try:
            data = json.loads(payload)
            message = cls(float(data["price_per_kwh"]), int(data.get("tier", 1)))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SignalError(f"bad price signal: {error}") from None
        if not math.isfinite(message.price_per_kwh) or message.price_per_kwh < 0:
            raise SignalError("price_per_kwh must be a finite number >= 0")
        if message.tier < 1:
            raise SignalError("tier counts from 1")
        return message


@dataclasses.dataclass(frozen=True)
class Call:
    """A call an ESI holds: its window (simulated s), what it asks, and the event id of the signal that set it."""

    start_s: float
    end_s: float
    reduction_pct: float
    demand_limit_w: float = 0.0
    event_id: int = 0


def is_newer_event_id(new: int, old: int) -> bool:
    """True if 16-bit event id ``new`` comes after ``old`` (serial-number arithmetic, RFC 1982: ids wrap at 65536)."""
    return 0 < (new - old) % (MAX_EVENT_ID + 1) < (MAX_EVENT_ID + 1) // 2


class CallBook:
    """The calls one ESI (or one group of ESIs called together) holds, by key (:attr:`DrSignal.key`).

    A signal replaces the call with its key unless it is older than the
    signal that set it (a QoS 1 retransmission that arrives after the newer
    instruction must not undo it); the issuer numbers its signals upwards.
    """

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}

    def receive(self, signal: DrSignal, received_s: float) -> Call | None:
        """Hold the call ``signal`` makes and return it; None if it is not newer than the call it would replace."""
        held = self.calls.get(signal.key)
        if held is not None and not is_newer_event_id(signal.event_id, held.event_id):
            return None
        start, end = signal.window(received_s)
        call = self.calls[signal.key] = Call(start, end, signal.reduction_pct, signal.demand_limit_w, signal.event_id)
        return call

    def reduction_pct(self, now_s: float) -> float:
        """Deepest reduction of the calls running at ``now_s`` (0 if none); forgets calls that ended."""
        self.calls = {k: c for k, c in self.calls.items() if c.end_s > now_s}
        return max((c.reduction_pct for c in self.calls.values() if c.start_s <= now_s), default=0.0)

    def next_change_s(self, now_s: float) -> float:
        """Next start or end of a held call after ``now_s`` (inf if none)."""
        times = [t for c in self.calls.values() for t in (c.start_s, c.end_s) if t > now_s]
        return min(times, default=math.inf)


def served_demand(natural_w: ArrayLike, curtailing: ArrayLike, reduction_pct: ArrayLike,
                  demand_limit_w: ArrayLike = 0.0) -> NDArray[np.float64]:
    """Demand the premise draws (W or any unit): natural demand, less the event's reduction while curtailing.

    While ``curtailing`` the controller sheds ``reduction_pct`` % of the
    natural demand and, when ``demand_limit_w`` > 0, keeps the demand at or
    below that limit too. Broadcasts over arrays (one entry per premise).
    """
    natural = np.asarray(natural_w, dtype=np.float64)
    reduced = natural * (1.0 - np.asarray(reduction_pct, dtype=np.float64) / 100.0)
    limit = np.asarray(demand_limit_w, dtype=np.float64)
    reduced = np.where(limit > 0, np.minimum(reduced, limit), reduced)
    return np.where(np.asarray(curtailing, dtype=bool), reduced, natural)
