"""The one ESI model: DR signal payloads and the load-control rule, for one premise or thousands.

An Energy Services Interface receives price and demand-response signals and,
as the premise's load controller, sheds the controllable load while an event
it has not opted out of runs. The individually emulated
:class:`~devices.field.esi_gateway.EsiGatewayDevice` and the array-backed
:class:`~devices.field.dr_population.DrSitePopulation` use what is here, so a
premise behaves and talks the same whichever way the scenario emulates it.
Data and pure functions (no device runtime), so the Service Provider's CSP
encodes its calls with the same :class:`DrSignal`:

* :class:`DrSignal` and :class:`PriceMessage` -- the MQTT payloads to an ESI,
  :class:`DrResponse` and :class:`DrMeasured` those from it (JSON, one
  ``encode``/``decode`` each; ``decode`` raises :class:`SignalError`);
* :class:`CallBook` -- the calls a premise (or a group of premises called
  together) holds: a newer signal with the same key replaces the call (an
  older one, such as a late retransmission, does not), the EMS may opt out,
  the deepest running call taken part in sets the reduction, ended calls are
  handed back for the measured response;
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
class DrResponse:
    """The EMS's answer to a call (``<topic>/dr/response``): it takes part (``opt_in``) or opts out."""

    esi: str
    event_id: int
    opt_in: bool
    time_s: float

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> DrResponse:
        try:
            data = json.loads(payload)
            return cls(str(data["esi"]), int(data["event_id"]), bool(data["opt_in"]), float(data["time_s"]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SignalError(f"bad DR response: {error}") from None


@dataclasses.dataclass(frozen=True)
class DrMeasured:
    """The response an ESI measured over a call that ended (``<topic>/dr/measured``), W and %.

    ``opt_in`` is the EMS's answer (None: it did not answer); the baseline is
    the demand at the call's start, the average the energy over the call
    divided by its length.
    """

    esi: str
    event_id: int
    opt_in: bool | None
    baseline_w: float
    average_w: float
    reduction_w: float
    reduction_pct: float

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> DrMeasured:
        try:
            data = json.loads(payload)
            opt_in = data["opt_in"]
            return cls(str(data["esi"]), int(data["event_id"]), None if opt_in is None else bool(opt_in),
                       float(data["baseline_w"]), float(data["average_w"]), float(data["reduction_w"]),
                       float(data["reduction_pct"]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise SignalError(f"bad DR measurement: {error}") from None


@dataclasses.dataclass(frozen=True)
class Call:
    """A call an ESI holds: its window (simulated s), what it asks, the signal that set it, and the EMS's answer.

    ``opt_in`` is None until the premise's EMS answers; an opted-out call
    (False) is held (it can still be answered, replaced or released) but sheds
    nothing.
    """

    start_s: float
    end_s: float
    reduction_pct: float
    demand_limit_w: float = 0.0
    event_id: int = 0
    key: str = ""
    opt_in: bool | None = None

    @property
    def taking_part(self) -> bool:
        return self.opt_in is not False

    def running(self, now_s: float) -> bool:
        """The call's window holds ``now_s`` (start included, end excluded)."""
        return self.start_s <= now_s < self.end_s


def is_newer_event_id(new: int, old: int) -> bool:
    """True if 16-bit event id ``new`` comes after ``old`` (serial-number arithmetic, RFC 1982: ids wrap at 65536)."""
    return 0 < (new - old) % (MAX_EVENT_ID + 1) < (MAX_EVENT_ID + 1) // 2


class CallBook:
    """The calls one ESI (or one group of ESIs called together) holds, by key (:attr:`DrSignal.key`).

    The one code path of every ESI, individual gateway or site group:

    * accept -- :meth:`receive`: a signal replaces the call with its key
      unless it is older than the signal that set it (a QoS 1 retransmission
      that arrives after the newer instruction must not undo it); the issuer
      numbers its signals upwards. A replacement with ``reduction_pct`` 0
      releases (cancels) the call: it stays held to its end, shedding nothing.
    * opt out / in -- :meth:`respond`, the premise EMS's answer to a call;
    * active -- :meth:`in_force`, the deepest running call taken part in;
    * completed -- :meth:`expire` hands back the calls that ended.
    """

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}

    def receive(self, signal: DrSignal, received_s: float) -> Call | None:
        """Hold the call ``signal`` makes and return it; None if it is not newer than the call it would replace.

        A replacement keeps the EMS's answer to the call it replaces.
        """
        held = self.calls.get(signal.key)
        if held is not None and not is_newer_event_id(signal.event_id, held.event_id):
            return None
        start, end = signal.window(received_s)
        call = self.calls[signal.key] = Call(start, end, signal.reduction_pct, signal.demand_limit_w, signal.event_id,
                                             signal.key, held.opt_in if held is not None else None)
        return call

    def respond(self, event_id: int, opt_in: bool) -> Call | None:
        """The EMS opts in to (or out of) the call whose latest signal had ``event_id``; None if none is held."""
        for key, call in self.calls.items():
            if call.event_id == event_id:
                answered = self.calls[key] = dataclasses.replace(call, opt_in=opt_in)
                return answered
        return None

    def expire(self, now_s: float) -> list[Call]:
        """Forget the calls that ended by ``now_s`` and return them (oldest end first)."""
        ended = sorted((c for c in self.calls.values() if c.end_s <= now_s), key=lambda c: (c.end_s, c.key))
        if ended:
            self.calls = {k: c for k, c in self.calls.items() if c.end_s > now_s}
        return ended

    def in_force(self, now_s: float) -> Call | None:
        """The deepest running call the premise takes part in at ``now_s`` (None if none); keeps ended calls."""
        running = [c for c in self.calls.values() if c.running(now_s) and c.taking_part]
        return max(running, key=lambda c: (c.reduction_pct, c.demand_limit_w, c.key), default=None)

    def reduction_pct(self, now_s: float) -> float:
        """Deepest reduction of the calls running at ``now_s`` (0 if none); forgets calls that ended."""
        self.expire(now_s)
        call = self.in_force(now_s)
        return call.reduction_pct if call is not None else 0.0

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
