"""The C37.118 plug-in's endpoint: a PMU's ``protocols.c37118`` as a stream on its node, built from its point model.

CFG-2 and data frames are the C37.118 view of the PMU's store
(:mod:`devices.protocols.c37118_pmu`); after every step the publisher sends
a data frame when the device took a new sample (its ``samples`` count
moved), to every PDC that turned the stream on, simulated or real
(:mod:`cosim.hil.c37118_tcp` takes ``stream``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.protocols import c37118_pmu
from devices.protocols.c37118_endpoint import C37118Endpoint, PmuStream
from devices.protocols.settings import C37118Settings

if TYPE_CHECKING:
    from devices.field.base import FieldDevice


class C37118Publisher:
    """One PMU's stream and its node's endpoint; ``scan`` publishes each new measurement once."""

    def __init__(self, device: FieldDevice, stream: PmuStream, endpoint: C37118Endpoint) -> None:
        self.device, self.stream, self.endpoint = device, stream, endpoint
        self._published = 0

    def scan(self) -> None:
        if self.device.samples != self._published:  # a wake without a sample (a master's write) sends nothing
            self._published = self.device.samples
            self.endpoint.publish(self.stream)


def attach(device: FieldDevice, settings: C37118Settings) -> C37118Publisher | None:
    """The PMU's stream on its node's C37.118 endpoint (None without a network or node)."""
    layer, store = device.layer, device.store
    if layer.comm is None or device.config.node is None or store is None:
        return None
    station = settings.station or device.device_id
    nominal = layer.grid.network.frequency_hz if layer.grid is not None else 60.0
    bus = getattr(device.config, "bus", "")

    def config() -> bytes:
        soc, fracsec = divmod(layer.utc_us(device.world.now), c37118_pmu.TIME_BASE)
        rate = int(store.get("reporting_rate_fps"))
        return c37118_pmu.config_frame(station, settings.idcode, nominal, rate, soc, fracsec).encode()

    layout = c37118_pmu.config_frame(station, settings.idcode, nominal, 1, 0, 0)  # the data frames' layout, built once

    def data() -> bytes:
        return c37118_pmu.data_frame(settings.idcode, store.get).encode(layout)

    stream = PmuStream(settings.idcode, config, f"gridcosim PMU {device.device_id} at bus {bus}", data)
    endpoint = C37118Endpoint.of(layer.comm, device.config.node, device.world.log)
    endpoint.add(stream)
    return C37118Publisher(device, stream, endpoint)
