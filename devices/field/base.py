"""What every field device shares: its process loop over the World, its store, its noise, its commands.

A :class:`FieldDevice` is one SimPy process (a generator over the World). It
sleeps until the earliest of a change of the grid (any action, a fault,
another device's trip), its logic's ``next_event_time_s()`` (a trip, a
reclose, a switching delay, an interval end) and, only for a device whose
readings change without the grid changing, its next periodic sample; or
until a master's command write pokes it. Each wake it

1. reads :class:`~cosim.grid.GridMeasurements` (the grid solves only if changed),
2. updates its register store in engineering units (noise and quantisation
   from its own stream ``devices/<id>/noise``),
3. steps its protection or control logic,
4. carries out the resulting intents and queued commands as grid actions.

Quiet time is free: the grid is piecewise constant between actions, so a
noiseless device that re-read it on a fixed tick would store the same values
again. Such a device samples when the grid's ``version`` moved (``sample`` is
then True in :meth:`FieldDevice.step`, so time series are recorded at every
change, a step function with nothing lost). A device with measurement noise
(``noise_pct`` > 0) draws a fresh reading every ``sample_period_s`` (what a
poll of a real transducer sees), and a device whose output is periodic on the
wire (a PMU's frames) or whose registers integrate over time (a meter's, an ESI's or
an inverter's energy) sets ``samples_periodically``.

The :class:`DeviceLayer` is the world's ``"devices"`` service: a mapping from
device id to device, the grid-change event the processes wait on, and one
MQTT client per comm node (shared by the devices on it). Times are simulated
seconds throughout.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generator, Iterator, Mapping, Sequence

import numpy as np
import simpy

from cosim.kernel.clock import delay_until
from cosim.comm import CommError, MqttMessage, QoS
from cosim.comm.mqtt import topic_matches
from cosim.grid import Action, Change, GridMeasurements, GridService
from devices.config import DeviceConfig
from devices.field.reporting import ExceptionReporter, MqttReportTransport, report_points
from devices.reports import ReportMode
from devices.gridbinding import grid_action
from devices.intents import Intent
from devices.noise import NoiseSpec, measure
from devices.protocols.registry import Endpoint, attach_all
from devices.registermap import RegisterMap, Value
from devices.registerstore import RegisterStore

if TYPE_CHECKING:
    from cosim.kernel import World

Effect = Intent | Action
"""What a device step or command produces: an intent of its logic or a grid action."""
Effects = Sequence[Effect]
Command = Callable[[float], Effects]
"""A queued master command: called at the device's next wake with the time, returns what to do."""

SQRT3 = math.sqrt(3.0)
MAX_SAME_TIME_WAKES = 1000
RETRIES_AFTER_RECONNECT = 2


class NodeMqtt:
    """The one MQTT client of a comm node, shared by every device on that node.

    Devices never block on the network: :meth:`publish` and :meth:`subscribe`
    queue the operation; a sender process connects (and reconnects after the
    broker drops the client), subscribes, then publishes in order. QoS 1
    publishes wait for their PUBACK one at a time, as a single TCP connection would.
    """

    def __init__(self, world: "World", comm: Any, node: str, broker: str) -> None:
        self.node, self.broker = node, broker
        self.client = comm.mqtt_client(node, f"dev-{node}", broker)
        self._queue: simpy.Store = simpy.Store(world.env)
        self._subscriptions: list[tuple[str, QoS, Callable[[MqttMessage], None]]] = []
        self.published = 0
        self.failed = 0
        world.process(self._run())

    def publish(self, topic: str, payload: Mapping[str, Any] | bytes, qos: int = 1, retain: bool = False) -> None:
        """Queue a publish; a mapping is sent as compact JSON."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        self._queue.put(("publish", topic, data, QoS(qos), retain))

    def subscribe(self, topic_filter: str, qos: int, handler: Callable[[MqttMessage], None]) -> None:
        self._subscriptions.append((topic_filter, QoS(qos), handler))
        self._queue.put(("subscribe", topic_filter, QoS(qos), handler))

    def deliver(self, topic: str, payload: bytes) -> int:
        """Hand ``payload`` to this node's subscribers of ``topic`` as if it had arrived over MQTT; how many took it.

        The seam for another protocol's view of the same signal (an OpenADR VEN
        on the node turns an event into the DR signal the ESIs subscribe to),
        so the devices act through the one handler path whatever carried it.
        """
        message = MqttMessage(topic, payload, QoS.AT_LEAST_ONCE, False, False)
        handlers = [handler for topic_filter, _qos, handler in self._subscriptions if topic_matches(topic_filter, topic)]
        for handler in handlers:
            handler(message)
        return len(handlers)

    def _run(self) -> Generator[Any, Any, None]:
        yield from self._connect()
        while True:
            operation = yield self._queue.get()
            for _attempt in range(RETRIES_AFTER_RECONNECT + 1):
                try:
                    if operation[0] == "publish":
                        _, topic, data, qos, retain = operation
                        yield from self.client.publish(topic, data, qos, retain)
                        self.published += 1
                    else:
                        _, topic_filter, qos, handler = operation
                        yield from self.client.subscribe(topic_filter, qos, handler)
                    break
                except CommError:
                    # The broker gave up on us (a lost keep-alive on a lossy link): reconnect, resubscribe, retry.
                    self.failed += 1
                    yield from self._connect()

    def _connect(self) -> Generator[Any, Any, None]:
        yield from self.client.connect()
        for topic_filter, qos, handler in self._subscriptions:
            yield from self.client.subscribe(topic_filter, qos, handler)


class DeviceLayer:
    """The ``"devices"`` service of a World: device id -> device, plus what devices share.

    ``layer["relay_1"]`` is a :class:`FieldDevice` (``.device_id``, ``.kind``,
    ``.store``, ``.config``); ``layer.of_kind("recloser")`` lists them by kind.
    """

    def __init__(self, world: "World", grid: GridService | None, comm: Any | None, *,
                 start_utc_us: int = 0) -> None:
        self.world = world
        self.grid = grid
        self.comm = comm
        self.start_utc_us = int(start_utc_us)
        """Device clocks: microseconds since 1970-01-01 UTC at simulated time 0 (the scenario's ``run.start_utc``)."""
        self.devices: dict[str, FieldDevice] = {}
        self.spread_sample_phases = False
        """True: periodic samples are spread over their period, one phase per device (:meth:`sample_phase`)."""
        self._phases: dict[str, float] = {}
        self._changed = world.env.event()
        self._sleepers: list[FieldDevice] = []
        self._mqtt: dict[str, NodeMqtt] = {}
        if grid is not None:
            previous = grid.on_change

            def on_change(action: Action, change: Change) -> None:
                if previous is not None:
                    previous(action, change)
                self.notify_grid_change()

            grid.on_change = on_change

    # -- the mapping ----------------------------------------------------------------
    def sample_phase(self, device_id: str) -> float:
        """Where in its period a device's periodic samples fall, as a fraction in [0, 1).

        0 for every device unless ``spread_sample_phases`` is set (a served
        run sets it: N devices sampling at the same instant are one burst of
        work the wall clock waits for). Spread, the device of rank ``r`` in
        device-id order gets the fractional part of ``r`` times the golden
        ratio: deterministic, and as even as any prefix of the devices allows.
        """
        if not self.spread_sample_phases:
            return 0.0
        if device_id not in self._phases:
            golden = (math.sqrt(5.0) - 1.0) / 2.0
            self._phases = {d: (rank * golden) % 1.0 for rank, d in enumerate(sorted(self.devices))}
        return self._phases.get(device_id, 0.0)

    def __getitem__(self, device_id: str) -> "FieldDevice":
        try:
            return self.devices[device_id]
        except KeyError:
            raise KeyError(f"no device {device_id!r} (have: {', '.join(sorted(self.devices))})") from None

    def __contains__(self, device_id: object) -> bool:
        return device_id in self.devices

    def __iter__(self) -> Iterator[str]:
        return iter(self.devices)

    def __len__(self) -> int:
        return len(self.devices)

    def utc_us(self, now_s: float) -> int:
        """The devices' UTC clock at simulated ``now_s``: integer microseconds since 1970-01-01 UTC.

        Rounded once from simulated time, so it never runs backwards and a split
        into whole seconds and microseconds never gives 1,000,000 µs.
        """
        return self.start_utc_us + round(now_s * 1e6)

    def of_kind(self, kind: str) -> list["FieldDevice"]:
        return [d for d in self.devices.values() if d.kind == kind]

    def add(self, device: "FieldDevice") -> None:
        if device.device_id in self.devices:
            raise ValueError(f"device {device.device_id!r} added twice")
        self.devices[device.device_id] = device

    # -- what devices share ---------------------------------------------------------
    @property
    def grid_changed(self) -> simpy.Event:
        """Fires at the next grid action (then a new event takes its place)."""
        return self._changed

    def notify_grid_change(self) -> None:
        event, self._changed = self._changed, self.world.env.event()
        event.succeed()
        # Each device sleeps on its own wake event, not on the shared one: a condition over a shared
        # event leaves one callback per sleeping device on it, and SimPy removes a condition's callback
        # with a list scan, so every device waking for its own reason cost O(devices).
        for device in self._sleepers:
            device.wake()

    def wake_on_grid_change(self, device: "FieldDevice") -> None:
        """Wake ``device`` (its :meth:`FieldDevice.wake`) at every grid action from now on."""
        self._sleepers.append(device)

    def node_mqtt_clients(self) -> dict[str, NodeMqtt]:
        """The shared MQTT client holders by node (a copy); HIL swaps each holder's ``client``."""
        return dict(self._mqtt)

    def mqtt(self, node: str, broker: str) -> NodeMqtt:
        """The shared MQTT client of ``node`` (created on first use)."""
        if self.comm is None:
            raise ValueError(f"MQTT at node {node!r} needs a comm section")
        client = self._mqtt.get(node)
        if client is None:
            client = self._mqtt[node] = NodeMqtt(self.world, self.comm, node, broker)
        elif client.broker != broker:
            raise ValueError(f"node {node!r} already talks to broker {client.broker!r}, not {broker!r}")
        return client


class FieldDevice:
    """Base of the individually emulated devices; a subclass implements :meth:`step`.

    ``store`` is the device's :class:`RegisterStore`, its point model (None for
    kinds without one); the protocols of its entry serve it (``endpoints``). Subclasses set ``register_map()`` and may override
    :meth:`next_event_time_s` and :meth:`sync_settings`.
    """

    kind: ClassVar[str]
    samples_periodically: ClassVar[bool] = False
    """True: the device's output is periodic whatever the grid does (a PMU's frames)."""

    def __init__(self, layer: DeviceLayer, config: DeviceConfig) -> None:
        self.layer = layer
        self.world = layer.world
        self.config = config
        self.device_id = config.id
        self.entity = f"device/{config.id}"
        self.rng: np.random.Generator = layer.world.rng(f"devices/{config.id}/noise")
        self.noise = NoiseSpec(sigma_rel=getattr(config.params, "noise_pct", 0.0) / 100.0)
        register_map = self.register_map()
        self.store: RegisterStore | None = None
        if register_map is not None:
            self.store = RegisterStore(register_map, protection_writes_allowed=config.allow_protection_writes)
            for name, value in config.params.register_values().items():
                self.store.set(name, value)
        self._commands: list[Command] = []
        self._wake = layer.world.env.event()
        self._timer: simpy.Event | None = None
        if self.store is not None:
            # A master's write (a setting, a curve, a command) is seen at once: with no periodic
            # tick, nothing else would wake the device before the grid changes.
            for point in self.store.register_map.points:
                if point.writable:
                    self.store.on_write(point.name, self._wake_on_write)
        self._next_sample_s = 0.0
        self.sample_period_s = float(getattr(config.params, "sample_period_s", 1.0))
        # Fresh noise every sample is a reading that changes while the grid does not: keep the tick for it.
        self.periodic = type(self).samples_periodically or self.noise.sigma_rel > 0
        self._tick, self._tick_period = 0, math.nan
        self.follows_frequency = False
        """True when the logic or a point reads the area frequency: while its transient evolves the device
        samples on its period (the grid does not change, so nothing else would wake it); set by subclasses."""
        self._frequency_tick_s = math.inf
        self.reporter = self._build_reporter()
        self.endpoints: dict[str, Endpoint] = {}
        """The device's protocol endpoints that report changes, by protocol name (``protocols:``), from :meth:`start`."""
        self.wakes = 0
        self.samples = 0
        self._same_time_wakes = 0

    # -- to implement ---------------------------------------------------------------
    def register_map(self) -> RegisterMap | None:
        return None

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        """Read, update the store, step the logic; return intents/actions. ``sample``: a periodic sample is due."""
        raise NotImplementedError

    def next_event_time_s(self) -> float:
        """When the logic must be stepped even if nothing changes (``inf``: never)."""
        return math.inf

    def start(self) -> None:
        """Serve the point model by the protocols the entry chose, then start the process (called once by the wiring)."""
        self.endpoints = attach_all(self)
        self.layer.wake_on_grid_change(self)
        self.world.process(self.run())

    # -- helpers for subclasses -----------------------------------------------------
    def node_mqtt(self) -> NodeMqtt | None:
        """The shared MQTT client of the device's node for its ``params.mqtt.broker`` (None: no MQTT)."""
        mqtt = getattr(self.config.params, "mqtt", None)
        if mqtt is None:
            return None
        if self.config.node is None:
            raise ValueError(f"device {self.device_id!r} publishes over MQTT but has no node")
        return self.layer.mqtt(self.config.node, mqtt.broker)

    def topic_prefix(self) -> str:
        """``params.mqtt.topic``, or ``<kind>/<id>``."""
        mqtt = getattr(self.config.params, "mqtt", None)
        return mqtt.topic if mqtt is not None and mqtt.topic else f"{self.kind}/{self.device_id}"

    @property
    def qos(self) -> int:
        mqtt = getattr(self.config.params, "mqtt", None)
        return int(mqtt.qos) if mqtt is not None else 0

    def measured(self, value: float) -> float:
        """``value`` with this device's measurement noise (one draw from its own stream)."""
        if not math.isfinite(value):
            return 0.0
        return measure(value, self.rng, self.noise)

    def set_points(self, values: Mapping[str, Value]) -> None:
        assert self.store is not None
        for name, value in values.items():
            self.store.set(name, value)

    def command(self, point: str, on_value: Callable[[float, Value], Effects], *,
                momentary: bool = True) -> None:
        """Wire a writable point: a master write queues ``on_value(time, value)`` for the next wake.

        A momentary command coil is cleared by the device once it has acted (only
        writes of 1 act), as field devices do with pulse outputs.
        """
        assert self.store is not None
        store = self.store

        def on_write(_point: Any, value: Value) -> None:
            if momentary and not value:
                return

            def run(now: float) -> Effects:
                if momentary:
                    store.set(point, False)
                return on_value(now, value)

            self.queue(run)

        store.on_write(point, on_write)

    def _wake_on_write(self, _point: Any, _value: Value) -> None:
        self.wake()

    def wake(self) -> None:
        """Step the device now (a grid change, a master's write, its timer)."""
        if not self._wake.triggered:
            self._wake.succeed()

    def _on_timer(self, event: simpy.Event) -> None:
        if event is self._timer:  # an earlier timer, outlived by another wake, does nothing
            self.wake()

    def queue(self, command: Command) -> None:
        """Run ``command`` at the device's next wake (now, in simulated time)."""
        self._commands.append(command)
        self.wake()

    def act(self, items: Effects) -> None:
        """Carry out intents (via devices.gridbinding) and grid actions, logging each."""
        grid = self.layer.grid
        for item in items:
            action = grid_action(item) if isinstance(item, Intent) else item
            if grid is None:
                continue
            try:
                grid.apply(action)
            except (KeyError, ValueError) as error:
                self.world.log("device_action_refused", device=self.device_id, action=repr(action), reason=str(error))
                continue
            self.world.log("device_action", device=self.device_id, action=type(action).__name__,
                           **{k: v for k, v in vars(action).items() if isinstance(v, (str, int, float, bool))})

    # -- the process ----------------------------------------------------------------
    def run(self) -> Generator[Any, Any, None]:
        env = self.world.env
        grid = self.layer.grid
        seen_version = -1
        while True:
            now = env.now
            self.wakes += 1
            tick = self.periodic and now >= self._next_sample_s
            if tick:
                self._next_sample_s = self._next_tick(now)
            # Commands first, so the step below measures the grid they changed.
            commanded: list[Effect] = []
            commands, self._commands = self._commands, []
            for command in commands:
                commanded += command(now)
            self.act(commanded)
            items: Effects = []
            if grid is not None:
                changed = grid.version != seen_version
                seen_version = grid.version
                sample = tick if self.periodic else changed or now >= self._frequency_tick_s
                self.samples += sample
                items = self.step(now, grid.measurements(), sample)
            self.act(items)
            self.after_step(now)
            acted = bool(items) and grid is not None
            if self._wake.triggered:
                self._wake = env.event()
            # After acting, look again at once: the grid-change event this device would wait on is
            # already a new one, so its own trip or close would otherwise go unseen until the next wake.
            next_sample = self._next_sample_s if self.periodic else self._next_frequency_tick(now)
            due = now if acted else min(next_sample, self.next_event_time_s())
            if due <= now:
                self._same_time_wakes += 1
                if self._same_time_wakes > MAX_SAME_TIME_WAKES:
                    # A logic that keeps asking for "now" would stop simulated time: log it, sleep a sample period.
                    self.world.log("device_livelock", device=self.device_id, time_s=now)
                    due = self._next_sample_s = self._next_tick(now)
            else:
                self._same_time_wakes = 0
            self._timer = None
            if math.isfinite(due):
                self._timer = env.timeout(delay_until(env.now, due))
                self._timer.callbacks.append(self._on_timer)
            yield self._wake  # triggered by the timer, a grid change (DeviceLayer) or a write

    def _next_frequency_tick(self, now: float) -> float:
        """A device that samples on change, but reads the frequency: its next sample while a transient evolves.

        Ticks on the sample period until the first at or after the instant the
        transient is over, so the last sample holds the settled frequency.
        """
        grid = self.layer.grid
        if self.follows_frequency and grid is not None and now < grid.frequency_settled_s():
            self._frequency_tick_s = self._next_tick(now)
        else:
            self._frequency_tick_s = math.inf
        return self._frequency_tick_s

    def after_step(self, now: float) -> None:
        """After every step and its actions: the report-by-exception views compare the point model."""
        if self.reporter is not None:
            self.reporter.check(now)
        for endpoint in self.endpoints.values():
            endpoint.scan()

    def _build_reporter(self) -> ExceptionReporter | None:
        """The device's report-by-exception view from ``params.reporting`` (None: polled only)."""
        reporting = getattr(self.config.params, "reporting", None)
        if reporting is None or self.store is None:
            return None
        points = report_points(self.store.register_map, ReportMode(reporting.mode))
        if not points:
            return None
        if self.config.node is None:
            raise ValueError(f"device {self.device_id!r} reports by exception but has no node")
        mqtt = self.layer.mqtt(self.config.node, reporting.broker)
        transport = MqttReportTransport(mqtt, reporting.topic or f"rbe/{self.device_id}", reporting.qos)
        return ExceptionReporter(self.device_id, self.store, points, transport,
                                 deadband_pct=reporting.deadband_pct, deadband_floor=reporting.deadband_floor)

    def _next_tick(self, now: float) -> float:
        """The next periodic sample instant: an integer multiple of the period (plus the device's phase), later than ``now``.

        Counting ticks as integers keeps the instants exact multiples at any clock
        value (no accumulated ``now + period`` drift); a changed period, or a
        clock that moved past the next tick (a device that was not periodic, a
        livelock pause), restarts the count from ``now``. The phase is 0 unless
        the layer spreads samples (a served run, :meth:`DeviceLayer.sample_phase`).
        """
        period = self.sample_period_s
        offset = self.layer.sample_phase(self.device_id) * period
        if period != self._tick_period or (self._tick + 1) * period + offset <= now:
            self._tick_period, self._tick = period, math.floor((now - offset) / period)
        due = self._tick * period + offset
        for _ in range(4):  # one or two steps normally; bounded, in case the period is below the clock's resolution
            if due > now:
                break
            self._tick += 1
            due = self._tick * period + offset
        if due <= now:  # a period below the clock's resolution: never stand still
            due = math.nextafter(now, math.inf)
        return due


def bus_name(m: GridMeasurements, index: int) -> str:
    return str(m.network.buses.name[int(index)])


def switch_bus(m: GridMeasurements, switch: str) -> str:
    """The bus a switch sits at (where its relay measures voltage); asked of the grid, balanced or a feeder."""
    return m.switch_bus(switch)
