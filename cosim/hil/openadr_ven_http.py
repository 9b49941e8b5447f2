"""The scenario's OpenADR 2.0b VENs talking to an external VTN over real HTTP, through openleadr's VEN client.

One :class:`ExternalVtnLink` per entry of the bench's ``hil.openadr_vens``
replaces a VEN's simulated VTN -- an ``openadr_ven`` device's ``params.vtn``,
or an ESI gateway's enrolled over OpenADR (``params.enrolment.vtn``); both
talk through a :class:`~devices.ven_session.VenSession` -- by a
real one, as ``hil.mqtt`` replaces the simulated broker. openleadr's
``OpenADRClient`` (pull model, 2.0b simple HTTP) runs in the session's I/O
thread; simulation state is touched only in the SimPy thread, through the
inbox (:mod:`.bridge`).

* :meth:`ExternalVtnLink.connect`, at session start (wall time, before the
  run): ``oadrQueryRegistration`` and ``oadrCreatePartyRegistration``. A VTN
  that cannot be reached, answers with an error code or gives no
  registrationID (openleadr's VTN refuses that way) fails the serve with
  :class:`ExternalVtnError` naming the bench entry -- never a run that looks
  served. Then the first ``oadrRequestEvent`` and ``oadrPoll`` and polls at
  the period the VTN asked for.
* :meth:`ExternalVtnLink.register`, when the VEN knows its resources (a
  population's VEN from the population's enrolment, a gateway at run start): one TELEMETRY_USAGE report with a
  real-power (kW) data point per group, ``oadrRegisterReport``. Each value
  the VTN then asks for (``oadrCreateReport``, at the sampling period it
  chose) is the group's metered kW from the VEN's last ESI status, stamped
  with the UTC instant of that status on the paced clock.
* Each new or modified event (openleadr's ``on_event`` / ``on_update_event``)
  goes to the SimPy thread, where its UTC times are mapped onto the paced
  clock and the VEN's :meth:`~devices.ven_session.VenSession.take`
  acts on it; its answer (optIn, or optOut with the reason logged) goes back
  to openleadr, which sends ``oadrCreatedEvent``. An event the VEN cannot act
  on (another signal, several resources) is opted out with its reason.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import time
from typing import TYPE_CHECKING, Any, Callable

from cosim.comm.openadr import OadrEvent, OpenAdrError

from .bridge import IoThread, SimInbox
from .clock import RealtimeLoop

if TYPE_CHECKING:
    from devices.ven_session import VenSession

    from .config import OpenAdrVenBench

ANSWER_TIMEOUT_S = 10.0
"""Wall seconds an event waits for the SimPy thread's answer before openleadr opts out (a stopped run)."""
FIRST_POLL_S = 30.0
"""Wall seconds the event sync and first poll after registration may take (openleadr: 5 s connect + 10 s read each)."""
SAMPLING = datetime.timedelta(seconds=1)
"""Shortest sampling period offered for the metered power (the VTN picks its own, at least this)."""


class ExternalVtnError(RuntimeError):
    """The external VTN cannot be used: unreachable, refused the registration, or gave no registrationID."""


class ExternalVtnLink:
    """One VEN of the scenario and its external VTN (``config`` is its bench entry)."""

    def __init__(self, ven: "VenSession", config: "OpenAdrVenBench", entry: str, io: IoThread, inbox: SimInbox,
                 clock: RealtimeLoop) -> None:
        self.ven, self.config, self.entry = ven, config, entry
        self.io, self.inbox, self.clock = io, inbox, clock
        self.client: Any = None
        self._registration: dict[str, Any] = {}   # the last oadrCreatedPartyRegistration payload
        self._registered_report: dict[str, Any] | None = None   # the VTN's answer to our oadrRegisterReport
        self.registered_reports = False

    # -- session start (any thread but the I/O thread) --------------------------------------
    def connect(self) -> str:
        """Register with the VTN and start polling; the venID it gave. Raises ExternalVtnError."""
        timeout = self.config.register_timeout_s
        try:
            return str(self.io.call(self._connect(), timeout + FIRST_POLL_S))
        except ExternalVtnError:
            raise
        except (TimeoutError, asyncio.TimeoutError):
            raise ExternalVtnError(f"{self.entry}: the VTN at {self.config.vtn_url} registered VEN "
                                   f"{self._ven_name()!r} but did not answer its first poll") from None

    def _ven_name(self) -> str:
        return self.config.ven_name or self.ven.ven_id

    async def _connect(self) -> str:
        from openleadr import OpenADRClient   # the optional ``openadr`` extra

        config, tls = self.config, self.config.tls
        self.client = OpenADRClient(
            ven_name=self._ven_name(), vtn_url=config.vtn_url, ven_id=config.ven_id, allow_jitter=False,
            cert=str(tls.cert_file) if tls else None, key=str(tls.key_file) if tls else None,
            passphrase=tls.passphrase if tls else None, ca_file=str(tls.ca_file) if tls and tls.ca_file else None,
            vtn_fingerprint=tls.vtn_fingerprint if tls else None, check_hostname=tls.check_hostname if tls else True,
            disable_signature=not (tls and tls.sign), show_fingerprint=False)
        self.client.add_handler("on_event", self._on_event)
        self.client.add_handler("on_update_event", self._on_event)
        self.client.add_hook("after_parse_xml", self._parsed)
        client = self.client
        try:
            await asyncio.wait_for(self._register(), config.register_timeout_s)
        except asyncio.TimeoutError:
            raise ExternalVtnError(f"{self.entry}: the VTN at {config.vtn_url} did not register VEN "
                                   f"{self._ven_name()!r} within {config.register_timeout_s:g} s") from None
        # what openleadr's run() does once registered: event sync, a first poll, polling at the VTN's period
        await client.sync_events()
        await client._poll()
        client.scheduler.add_job(client._poll, trigger="interval", seconds=client.poll_frequency.total_seconds())
        client.scheduler.start()
        return str(client.ven_id)

    async def _register(self) -> None:
        client = self.client
        kind, answer = await client.query_registration()
        if kind is None:
            raise ExternalVtnError(f"{self.entry}: no answer from the VTN at {self.config.vtn_url} "
                                   "(oadrQueryRegistration; see the log for the connection error)")
        request_id = answer.get("response", {}).get("request_id")
        await client.create_party_registration(ven_id=client.ven_id, request_id=request_id)
        if not client.registration_id:
            response = self._registration.get("response", {})
            said = (f"{response.get('response_code')} {response.get('response_description')}" if response
                    else "no answer")
            raise ExternalVtnError(f"{self.entry}: the VTN at {self.config.vtn_url} refused the registration of VEN "
                                   f"{self._ven_name()!r} ({said}, no registrationID)")

    def _parsed(self, message_type: str, payload: dict[str, Any]) -> None:
        if message_type == "oadrCreatedPartyRegistration":
            self._registration = payload
        elif message_type == "oadrRegisteredReport":
            self._registered_report = payload

    # -- reports ---------------------------------------------------------------------------
    def register(self, resources: tuple[str, ...]) -> None:
        """SimPy thread: offer each resource's metered power to the VTN (once; later enrolments change nothing)."""
        if self.registered_reports or not resources or self.client is None:
            return
        self.registered_reports = True
        self.io.submit(self._register_reports(resources))

    async def _register_reports(self, resources: tuple[str, ...]) -> None:
        from openleadr.objects import Measurement, PowerAttributes

        from devices.ven_session import METERED_POWER, POWER_ATTRIBUTES, TELEMETRY

        client = self.client
        for rid in resources:   # the same real-power description as the simulated VEN's (a fresh one each)
            power = Measurement(**{**METERED_POWER, "power_attributes": PowerAttributes(**POWER_ATTRIBUTES)})
            client.add_report(callback=functools.partial(self._metered, rid), resource_id=rid, r_id=rid,
                              measurement=power, unit="W", scale="k", report_name=TELEMETRY, report_specifier_id=f"{self.ven.ven_id}-usage",
                              sampling_rate=SAMPLING, report_duration=datetime.timedelta(hours=1))
        await client.register_reports(client.reports)
        answer = self._registered_report or {}
        code = answer.get("response", {}).get("response_code")
        log = self.ven.world.log
        if code != 200:   # openleadr only logs it: say it in the run's events, where the user looks
            said = f"{code} {answer.get('response', {}).get('response_description')}" if answer else "no answer"
            self.inbox.offer(functools.partial(log, "openadr_refused", ven=self.ven.ven_id, service="EiReport",
                                               message="oadrRegisterReport", code=code, reason=said), force=True)
            return
        client.report_queue_task = asyncio.get_running_loop().create_task(client._report_queue_worker())
        self.inbox.offer(functools.partial(log, "openadr_reports_offered", ven=self.ven.ven_id,
                                           resources=len(resources)), force=True)

    def _metered(self, resource: str) -> list[tuple[datetime.datetime, float]]:
        """I/O thread: the resource's last metered kW and its UTC instant (none yet: no value)."""
        last = self.ven.metered.get(resource)
        if last is None:
            return []
        time_s, kw = last
        utc = time.time() + (self.clock.due_wall(time_s) - time.monotonic())
        return [(datetime.datetime.fromtimestamp(utc, datetime.timezone.utc), kw)]

    # -- events ----------------------------------------------------------------------------
    async def _on_event(self, event: dict[str, Any]) -> str:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        self.inbox.offer(functools.partial(self._take, event, answer, loop), force=True)
        try:
            reason = await asyncio.wait_for(answer, ANSWER_TIMEOUT_S)
        except asyncio.TimeoutError:
            return "optOut"
        return "optOut" if reason else "optIn"

    def _take(self, event: dict[str, Any], answer: "asyncio.Future[str]", loop: asyncio.AbstractEventLoop) -> None:
        """SimPy thread: the event on the paced clock, acted on by the VEN; its opt-out reason ("" = in)."""
        try:
            oadr = OadrEvent.from_openleadr(event, self.ven.epoch, self._utc_to_sim())
            reason = self.ven.take(oadr) or ""
        except OpenAdrError as error:
            reason = str(error)
            event_id = str(event.get("event_descriptor", {}).get("event_id", "?"))
            self.ven.refuse(event_id, reason)
        loop.call_soon_threadsafe(_resolve, answer, reason)

    def _utc_to_sim(self) -> Callable[[datetime.datetime], float]:
        """UTC instant -> the simulated time the paced clock reaches then (one reading of both clocks, so an
        event's start and end keep their UTC distance, times the pace)."""
        offset = time.monotonic() - time.time()
        return lambda when: self.clock.sim_time_at(when.timestamp() + offset)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None or self.io.loop.is_closed():
            return
        try:
            self.io.call(_stop(client), 5.0)
        except Exception:  # a VTN that will not let go must not keep the session alive
            pass


async def _stop(client: Any) -> None:
    if client.scheduler.running:
        client.scheduler.shutdown(wait=False)
    if client.report_queue_task:
        client.report_queue_task.cancel()
    if client.client_session is not None:
        await client.client_session.close()


def _resolve(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)
