"""Operations domain applications: SCADA master, DMS with FLISR, outage management.

They see the grid only through device registers polled over the
communication network and through crew reports over MQTT, and act only by
Modbus commands and work orders (DESIGN.md; ``tests/test_architecture.py``
keeps this module free of the electrical layer). The logic lives in
:mod:`cosim.operations`; this module declares the parameters and wires the
pieces of one actor together. The three applications of one actor find each
other through world services ``scada/<actor>`` and ``dms/<actor>``.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, ClassVar, Generator, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..kernel import World
from ..kernel.clock import clock_resolution
from ..nist import Actor, Domain
from ..operations.dms import CrewLink, Dms
from ..operations.dms_model import DmsModel, Limits
from ..operations.oms import OUTAGE_COLUMNS, OutageTracker, indices_fields
from ..operations.dnp3_scada import Dnp3ScadaMaster, Outstation
from ..operations.scada import PolledDevice, ScadaMaster
from .context import RunContext
from .registry import Params, application
from devices.protocols.dnp3_points import point_map
from devices.registermaps import DeviceKind, RtuPoint, RtuPointKind
from devices.registermap import DataType


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RtuPointParams(_Section):
    name: str
    kind: Literal["analog", "status", "control", "setpoint"]
    data_type: Literal["u16", "i16", "u32", "i32", "f32"] = "i16"
    scale: float = Field(1.0, gt=0)
    unit: str = ""
    address: int | None = Field(None, ge=0, le=65535)


class PolledDeviceParams(_Section):
    """A device outside the scenario's ``devices:`` (a HIL bench, another vendor's RTU), described in full."""

    device: str = Field(min_length=1, description="device id as the master names it")
    kind: Literal["recloser", "protective_relay", "sectionalizer", "rtu"]
    node: str = Field(min_length=1, description="comm node of the device's Modbus server")
    unit_id: int = Field(1, ge=1, le=247)
    switch: str | None = Field(None, description="grid switch the device reports and operates (engineering data)")
    scan_s: float = Field(2.0, gt=0, description="seconds between polls")
    roles: dict[str, str] = Field(default_factory=dict, description="role -> point name (closed, fault_flag, open, ...)")
    points: list[RtuPointParams] = Field(default_factory=list, description="an RTU's point list, as the device has it")
    measurements: list[str] = Field(default_factory=list, description="extra points recorded as time series")


class ScadaMasterParams(Params):
    device_refs: ClassVar[dict[str, str]] = {"poll": "*"}

    node: str = Field(min_length=1, description="comm node of the control centre")
    timeout_s: float = Field(1.0, gt=0, description="Modbus response timeout per attempt")
    retries: int = Field(2, ge=0, description="Modbus retries per request")
    command_attempts: int = Field(3, ge=1, description="times a command is re-sent when no answer comes")
    poll: list[str] = Field(default_factory=list, description="ids of scenario devices to poll (recloser, protective_relay, "
                            "sectionalizer, rtu): node, unit id and register map come from their devices: entries")
    scan_s: float = Field(2.0, gt=0, description="seconds between two polls of a device in poll")
    scan_overrides_s: dict[str, float] = Field(default_factory=dict, description="device id -> its own scan period, s")
    integrity_s: float = Field(3600.0, gt=0, description="seconds between integrity polls of a device that reports by "
                               "exception (its reporting.mode is rbe); a mixed-mode device is scanned every scan_s")
    reports_node: str | None = Field(None, description="comm node of the master's MQTT client for reports by exception "
                                     "(default: node; a node holds one MQTT client, so give another one when the DMS's "
                                     "crew channel sits at node)")
    accept_reports: bool = Field(True, description="false: a poll-only master, scanning every device every scan_s "
                                 "whatever it reports")
    scan_phase: Literal["aligned", "spread"] = Field(
        "aligned", description="aligned: every device is first polled at the start, so all scans fall on the same "
        "instants; spread: the devices' first polls are spread evenly over their period, as a front end schedules a "
        "long scan list (no burst of every request at once)")
    devices: list[PolledDeviceParams] = Field(default_factory=list, description="devices not in the scenario, described in full")
    protocol: Literal["modbus", "dnp3"] = Field(
        "modbus", description="modbus: polls (and MQTT reports by exception); dnp3: every device in poll is a DNP3 "
        "outstation (its protocols.dnp3): integrity polls every integrity_s, unsolicited events between them, CROB "
        "commands by select-before-operate")
    dnp3_address: int = Field(1, ge=0, le=65519, description="the master's DNP3 link address (protocol dnp3)")

    @model_validator(mode="after")
    def _something_to_poll(self) -> ScadaMasterParams:
        if not self.poll and not self.devices:
            raise ValueError("a SCADA master needs devices to poll: list scenario device ids in poll (or describe devices)")
        if self.protocol == "dnp3" and self.devices:
            raise ValueError("a DNP3 master reaches scenario devices (poll), not described ones (devices)")
        unknown = sorted(set(self.scan_overrides_s) - set(self.poll))
        if unknown:
            raise ValueError(f"scan_overrides_s names devices not in poll: {', '.join(unknown)}")
        if any(v <= 0 for v in self.scan_overrides_s.values()):
            raise ValueError("scan_overrides_s: scan periods are > 0 s")
        return self


def polled_device(spec: PolledDeviceParams) -> PolledDevice:
    points = tuple(RtuPoint(p.name, RtuPointKind(p.kind), data_type=DataType(p.data_type), scale=p.scale, unit=p.unit,
                            address=p.address) for p in spec.points)
    return PolledDevice.of_kind(spec.device, DeviceKind(spec.kind), spec.node, spec.unit_id, switch=spec.switch,
                                scan_s=spec.scan_s, roles=spec.roles or None, rtu_points=points,
                                measurements=tuple(spec.measurements))


def point_database(ctx: RunContext, params: ScadaMasterParams) -> list[PolledDevice]:
    """The master's polled devices: scenario devices by id (their configuration only), then the described ones.

    The run's device configurations are used as a configuration tool would use
    them: for kinds, nodes, unit ids and point lists; values travel only over
    Modbus.
    """
    found = [polled_device(d) for d in params.devices]
    for device_id in params.poll:
        scan_s = params.scan_overrides_s.get(device_id, params.scan_s)
        found.append(PolledDevice.from_device_config(ctx.device_configs[device_id], scan_s=scan_s))
    return found


def dnp3_outstations(ctx: RunContext, device_ids: list[str]) -> dict[str, Outstation]:
    """Link address and DNP3 map of each device, from its ``devices:`` entry (as a configuration tool exports them).

    Raises ValueError naming a device that does not serve DNP3.
    """
    found = {}
    for device_id in device_ids:
        config = ctx.device_configs[device_id]
        settings = config.protocols.dnp3 if config.protocols is not None else None
        if settings is None:
            raise ValueError(f"scada_master protocol dnp3: device {device_id!r} has no protocols.dnp3")
        kind = DeviceKind(config.kind)
        rtu = [p.rtu_point() for p in getattr(config.params, "points", ())] if kind is DeviceKind.RTU else []
        found[device_id] = Outstation(settings.address, point_map(kind, rtu))
    return found


@application("scada_master", {Domain.OPERATIONS}, ScadaMasterParams)
def scada_master(world: World, actor: Actor, params: ScadaMasterParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """SCADA master: polls RTUs, relays, reclosers over Modbus; alarms on change; operator commands."""
    master: ScadaMaster
    if params.protocol == "dnp3":
        master = Dnp3ScadaMaster(world, world.service("comm"), params.node, point_database(ctx, params),
                                 dnp3_outstations(ctx, params.poll), entity=actor.actor_id,
                                 clock_origin_ms=ctx.start_utc_us // 1000, master_address=params.dnp3_address,
                                 timeout_s=params.timeout_s, command_attempts=params.command_attempts,
                                 integrity_s=params.integrity_s)
    else:
        master = ScadaMaster(world, world.service("comm"), params.node, point_database(ctx, params),
                             entity=actor.actor_id, timeout_s=params.timeout_s, retries=params.retries,
                             command_attempts=params.command_attempts, integrity_s=params.integrity_s,
                             accept_reports=params.accept_reports, reports_node=params.reports_node,
                             spread_scans=params.scan_phase == "spread")
    world.add_service(f"scada/{actor.actor_id}", master)
    master.start()
    end = ctx.duration_s - 1e-3
    if end > world.now:
        yield world.timeout(end - world.now)
    # What the master's information cost, for studies comparing polling and report by exception.
    counts = {"polls": master.polls, "poll_failures": master.poll_failures, "polls_superseded": master.polls_superseded,
              "reports": master.reports, "reports_stale": master.reports_stale,
              "reports_rejected": master.reports_rejected, "commands": master.commands}
    world.log("scada_summary", scada=actor.actor_id, **counts)
    for name, value in counts.items():
        world.record(actor.actor_id, name, value, "count")


def await_service(world: World, name: str, rounds: int = 20) -> Generator[Any, Any, Any]:
    """The service ``name`` once another application of this instant has registered it (KeyError if none does)."""
    for _ in range(rounds):
        if world.has_service(name):
            return world.service(name)
        yield world.timeout(0)
    return world.service(name)


class CrewChannelParams(_Section):
    team: str = Field("crews", min_length=1)
    node: str = Field(min_length=1, description="comm node the DMS's MQTT client sits at")
    broker: str = Field(min_length=1, description="comm node of the MQTT broker")


class DmsParams(Params):
    network_model: str = Field(min_length=1, description="YAML file (relative to the scenario) whose grid section is the DMS's engineering model")
    scada: str | None = Field(None, description="actor running the scada_master (default: this actor)")
    ties: list[str] = Field(default_factory=list, description="normally-open switches FLISR may close")
    max_loading_pct: float = Field(100.0, gt=0)
    min_vm_pu: float = Field(0.95, gt=0, lt=1.2)
    load_scale: float = Field(1.0, gt=0, description="planning load = configured load x this")
    confirm_s: float = Field(10.0, gt=0, description="check-back time allowed for a command")
    command_rounds: int = Field(3, ge=1)
    crews: CrewChannelParams | None = None
    restore_to_normal: bool = True
    retry_wait_s: float = Field(30.0, gt=0, description="wait before trying a failed command again")
    remote_patience_s: float = Field(1800.0, ge=0, description="how long remote control is retried before a crew is sent")
    momentary_hold_s: float = Field(60.0, gt=0, description="fault reports with every device closed this long: a temporary "
                                    "fault; indicators are reset (longer than a reclosing sequence)")
    processing_delay_s: float = Field(0.0, ge=0, description="DMS time from an alarm to a located fault and a plan")
    operator_delay_s: float = Field(0.0, ge=0, description="operator time to review and accept a switching plan (0: closed loop)")
    isolation_patience_s: float = Field(0.0, ge=0, description="how long an isolating switch that does not answer is retried "
                                        "before the DMS isolates at the next reachable switch beyond it")
    patrol: bool = Field(True, description="send a crew to patrol a located zone that manual switches could cut smaller")


def load_network_model(ctx: RunContext, file: str) -> Any:
    """The grid section of ``file`` (a scenario or a file holding only a grid section); the caller's own copy.

    The parsed file is kept per process while it is unchanged on disk (same
    modification time and size): a reliability study builds a DMS for every
    incident, and parsing the YAML was most of that.
    """
    path = (Path(file) if Path(file).is_absolute() else ctx.base_dir / file).resolve()
    stat = path.stat()
    return copy.deepcopy(_parsed_network_model(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=16)
def _parsed_network_model(path: str, mtime_ns: int, size: int) -> Any:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return data["grid"] if isinstance(data, dict) and "grid" in data else data


@application("dms_flisr", {Domain.OPERATIONS}, DmsParams)
def dms_flisr(world: World, actor: Actor, params: DmsParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """DMS: locates faults from SCADA reports, isolates, restores through ties checked by power flow."""
    scada: ScadaMaster = yield from await_service(world, f"scada/{params.scada or actor.actor_id}")
    grid_section = load_network_model(ctx, params.network_model)
    model = DmsModel.from_grid_section(grid_section, ctx.base_dir, Limits(params.max_loading_pct, params.min_vm_pu), params.load_scale)
    unknown = [t for t in params.ties if t not in model.graph.switch_names]
    if unknown:
        raise ValueError(f"dms_flisr ties {unknown} are not switches of the network model {params.network_model!r}")
    crews = None
    if params.crews is not None:
        client = world.service("comm").mqtt_client(params.crews.node, f"{actor.actor_id}-dms", params.crews.broker)
        crews = CrewLink(world, client, params.crews.team)
    dms = Dms(world, scada, model, entity=actor.actor_id, ties=list(params.ties), crews=crews,
              confirm_s=params.confirm_s, command_rounds=params.command_rounds, restore_to_normal=params.restore_to_normal,
              retry_wait_s=params.retry_wait_s, remote_patience_s=params.remote_patience_s,
              momentary_hold_s=params.momentary_hold_s, processing_delay_s=params.processing_delay_s,
              operator_delay_s=params.operator_delay_s, isolation_patience_s=params.isolation_patience_s,
              patrol=params.patrol)
    world.add_service(f"dms/{actor.actor_id}", dms)
    yield from dms.run()


class OmsParams(Params):
    dms: str | None = Field(None, description="actor running dms_flisr (default: this actor)")
    momentary_threshold_s: float = Field(300.0, gt=0, description="IEEE 1366: longer is sustained")


@application("outage_management", {Domain.OPERATIONS}, OmsParams)
def outage_management(world: World, actor: Actor, params: OmsParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """OMS: customer interruptions inferred from SCADA and crew reports; IEEE 1366 indices at the end."""
    dms: Dms = yield from await_service(world, f"dms/{params.dms or actor.actor_id}")
    graph = dms.graph
    normal = graph.normal_states()
    feeder = {}
    for name, bus in zip(graph.load_names, graph.load_bus):
        path = graph.path_to_source(bus, normal) or []
        # a load's feeder is named by the first switch (the feeder breaker) on its path from the source
        first = [graph.switch_names[s] for k in path for s in range(len(graph.switch_names)) if graph.switch_branch[s] == k]
        feeder[name] = first[0] if first else "unswitched"
    table = world.recorder.table("outages", OUTAGE_COLUMNS)
    tracker = OutageTracker(graph.load_names, dict(zip(graph.load_names, graph.load_customers)),
                            dict(zip(graph.load_names, graph.load_kw)), feeder, source="oms", sink=table.write,
                            momentary_threshold_s=params.momentary_threshold_s)

    def observe() -> None:
        supplied = dict(zip(graph.load_names, graph.energised_loads(dms.states)))
        lost, back = tracker.update(world.now, supplied)
        if lost or back:
            world.record(actor.actor_id, "customers_out", tracker.customers_out, "customers")

    def on_trips(device: str, point: str, value: Any, old: Any) -> None:
        dev = dms.scada.devices[device]
        if old is None or point != dev.roles.get("fault_count") or dev.switch is None:
            return
        if float(value) > float(old) and dms.scada.value(device, "closed") and not dms.scada.value(device, "locked_out"):
            # The device tripped and reclosed between two polls: a momentary interruption beyond it.
            beyond = graph.zone_beyond(dev.switch, [s for s, c in dms.states.items() if not c])
            for lp, bus in zip(graph.load_names, graph.load_bus):
                if bus in beyond:
                    tracker.momentary(lp, world.now, int(float(value) - float(old)))

    dms.on_states_changed(observe)
    dms.scada.subscribe(on_trips)
    end = ctx.duration_s - 4 * clock_resolution(ctx.duration_s)  # before the end (until= excludes it), at any magnitude
    if end > world.now:
        yield world.timeout(end - world.now)
    tracker.close_all(world.now)
    result = tracker.indices(ctx.duration_s)
    fields = indices_fields(result)
    world.log("reliability_indices", source="oms", actor=actor.actor_id, **fields)
    for name, value in result.system.as_dict().items():
        world.record(actor.actor_id, name, value, "")
