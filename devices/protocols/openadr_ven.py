"""OpenADR 2.0b VEN of a DR site population's node: a CSP's events become the ESIs' DR signals.

``kind: openadr_ven`` sits on the comm node of the ``dr_site_population``
whose site groups it serves (any device there subscribed to
``esi/<csp>/<resource>`` gets the calls; an enrolled ``esi_gateway`` is its
own VEN instead, ``params.enrolment.protocol: openadr``) and talks OpenADR 2.0b with its CSP's VTN (:mod:`cosim.domains.openadr_vtn`) in
the push model: the VTN POSTs ``oadrDistributeEvent`` to this VEN's
``EiEvent`` service. Served in HIL, the bench may point it at an external VTN
instead (``hil.openadr_vens``, :mod:`cosim.hil.openadr_ven_http`): then
openleadr's VEN client registers and polls over real HTTP and hands each event
to :meth:`OpenAdrVen.take`, the same method the simulated path uses. The
OpenADR exchanges themselves are :class:`~devices.ven_session.VenSession`'s,
shared with the gateway; what is here is what a population's VEN does with them.

* At start it learns its site groups from the population's enrolment with
  the CSP (``pjm/enrol/<csp>``, MQTT, filtered on ``population``) and POSTs an
  ``oadrRegisterReport`` naming each group as a resource (a TELEMETRY_USAGE
  report of real power, kW); the VTN routes that resource's events here from
  then on.
* Each new or modified event becomes exactly the :class:`DrSignal` an MQTT
  CSP would have published, handed to the node's subscribers of
  ``esi/<csp>/<resource>`` through :meth:`NodeMqtt.deliver` -- the same
  handler the MQTT subscription calls -- so the curtailment is the same
  whichever protocol carried the call. A cancelled event is a release
  (``reduction_pct`` 0 under the same label).
* It answers with ``oadrCreatedEvent``: optIn, or optOut with the reason
  when the group cannot curtail (no curtailable kW in its last ESI status and
  no other call running there), no ESI on this node takes the resource's
  signals, or the event carries a signal it cannot act on; the reason is
  logged (``openadr_opt_out``).
* While an event is active it sends, from each ESI status
  (``esi/status/<csp>``), the group's metered kW -- what the sites' interval
  meters measure, after any curtailment -- as an ``oadrUpdateReport``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosim.comm import MqttMessage
from cosim.comm.openadr import EventStatus, OadrEvent
from cosim.markets.messages import Enrolment, EsiStatus
from cosim.markets.wire import PayloadError
from devices.ven_session import (METERED_POWER, POWER_ATTRIBUTES, TELEMETRY, ExternalVtn, VenSession, call_of,
                                         utc_epoch)

if TYPE_CHECKING:
    from devices.config import OpenAdrVenConfig, OpenAdrVenParams
    from devices.field.base import DeviceLayer

__all__ = ["METERED_POWER", "POWER_ATTRIBUTES", "TELEMETRY", "OpenAdrVen"]


class OpenAdrVen:
    """The device: registers its site groups, turns events into DR signals to the sites, reports their metered kW."""

    kind = "openadr_ven"

    def __init__(self, layer: "DeviceLayer", config: "OpenAdrVenConfig") -> None:
        self.layer, self.world, self.config = layer, layer.world, config
        self.device_id = config.id
        self.entity = f"device/{config.id}"
        self.store = None
        self.params: OpenAdrVenParams = config.params
        self.ven = VenSession(self.world, self.params.ven_id or config.id, utc_epoch(layer.start_utc_us), self._act)
        self.ven_id, self.epoch = self.ven.ven_id, self.ven.epoch
        self.metered = self.ven.metered                 # resource -> (time s, metered kW) of the last ESI status
        self.take, self.refuse = self.ven.take, self.ven.refuse
        self.available_kw: dict[str, float] = {}      # resource -> curtailable kW in the last ESI status

    def start(self) -> None:
        assert self.config.node is not None
        p = self.params
        if p.protocol != "openadr":
            return   # the programme notifies over MQTT: an installed VEN that is not used sends and hears nothing
        self.mqtt = self.layer.mqtt(self.config.node, p.broker)
        if self.layer.comm is None:
            raise ValueError(f"{self.device_id}: an openadr_ven needs a comm section")
        self.ven.connect(self.layer.comm, self.config.node, p.vtn)
        self.mqtt.subscribe(f"pjm/enrol/{p.csp}", 1, self._on_enrol)
        self.mqtt.subscribe(f"esi/status/{p.csp}", 1, self._on_status)

    def use_external_vtn(self, link: ExternalVtn) -> None:
        """Talk to ``link``'s VTN instead of the simulated one at ``params.vtn`` (before the run starts)."""
        self.ven.use_external_vtn(link)

    # -- MQTT side -------------------------------------------------------------------------
    def _on_enrol(self, message: MqttMessage) -> None:
        try:
            enrolment = Enrolment.decode(message.payload)
        except PayloadError as error:
            self.world.log("dr_bad_payload", client=self.device_id, topic=message.topic, error=str(error))
            return
        if enrolment.population == self.params.population:
            self.ven.register(tuple(r.resource_id for r in enrolment.resources))

    def _on_status(self, message: MqttMessage) -> None:
        try:
            status = EsiStatus.decode(message.payload)
        except PayloadError as error:
            self.world.log("dr_bad_payload", client=self.device_id, topic=message.topic, error=str(error))
            return
        if status.population != self.params.population:
            return
        self.available_kw.update(zip(status.resources, (float(kw) for kw in status.available_kw.tolist())))
        self.ven.measured((rid, status.time_s, float(kw)) for rid, kw in zip(status.resources,
                                                                             status.metered_kw.tolist()))

    # -- what an event does ----------------------------------------------------------------
    def _act(self, event: OadrEvent) -> str:
        """Hand the event to the ESIs as a DR signal; the reason to opt out, or "" (opted in).

        A group cannot curtail when its last ESI status offered no curtailable
        kW while none of its events ran (a running event of its own explains
        the 0 kW: its sites are curtailing already).
        """
        topic = f"esi/{self.params.csp}/{event.resource_id}"
        now = self.world.now
        if event.status is not EventStatus.CANCELLED and self.available_kw.get(event.resource_id, 1.0) <= 0 \
                and not self.ven.running(event.resource_id, now):
            return f"site group {event.resource_id} has no curtailable load now (0 kW in its last ESI status)"
        signal = call_of(event, now, self.ven.next_id())
        return "" if self.mqtt.deliver(topic, signal.encode()) else f"no ESI on node {self.config.node} takes {topic}"
