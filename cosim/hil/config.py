"""The HIL bench file: how ``cosim serve`` meets real masters, real devices and a real broker.

A bench file is separate from the scenario, so one scenario runs in batch or
served, and one bench (ports, broker, the relay on the test bench) serves any
scenario. Shape (YAML; every field optional, defaults shown)::

    hil:
      factor: 1.0                 # simulated seconds per wall second (cosim serve --factor wins)
      monitor_step: 0.1s          # lag monitor period, simulated time
      lag_warn_s: 0.25            # wall seconds behind schedule that count as "behind"
      inbox_capacity: 10000       # work waiting for the SimPy thread (beyond it: Modbus 06 busy)
      modbus:                     # emulated devices as Modbus TCP servers
        host: 127.0.0.1           # loopback unless you mean it
        gateway_port: 1502        # devices without their own expose.port; 0 picks a free port
        unit_ids: sequential      # gateway unit ids 1..n by device id, or "device" (the entry's unit_id)
        expose: []                # device ids to serve besides those with an expose hint
        allow_protection_writes: false   # real masters may change protection settings (and the device allows it)
        writable: {}              # device id -> point names real masters may write, or "all"
        allow_all_writes: false   # true: every writable point of every served device (explicit, logged)
        max_connections: 32       # per port
      masters:                    # the simulation polls real Modbus TCP devices
        - id: bench_relay
          host: 127.0.0.1
          port: 5020
          unit_id: 1
          poll: 0.1s              # simulated time between polls
          timeout: 0.5s
          retries: 1
          points:
            - {table: discrete_inputs, address: 1, on: 1, action: open, switch: feeder_cb}
            - {table: input_registers, address: 0, record: current_a, unit: A, scale: 1.0}
      mqtt:                       # devices' MQTT clients talk to a real broker
        host: 127.0.0.1
        port: 1883
        username: null
        password: null
        tls: null                 # {ca_file, cert_file, key_file, insecure: false}
        keepalive_s: 30
        client_id_prefix: ""
        reconnect_min_s: 0.5      # paho's exponential backoff between reconnect attempts
        reconnect_max_s: 30
        outbox: 1000              # publishes held while disconnected (oldest dropped beyond)
        inbox: 1000               # received messages waiting for the SimPy thread
      c37118:                     # PMUs with protocols.c37118 serve real PDCs (IEEE C37.118.2 over TCP)
        host: 127.0.0.1
        port: 4712                # 0 picks a free port
        max_connections: 8
      iec104:                     # RTUs as IEC 60870-5-104 controlled stations (pip install 'gridcosim[iec104]')
        host: 127.0.0.1
        port: 2404
        expose: [sub_rtu]         # RTU ids, one station each
        common_address: sequential   # 1..n by device id, or "device" (the entry's unit_id)
        deadband_pct: 1.0         # floats are sent spontaneously beyond this change
        scan: 0.1s                # simulated time between looks for changes
      dnp3:                       # the scenario's DNP3 outstations on real TCP (absent: not served)
        host: 127.0.0.1
        port: 20000               # one port; frames go to the outstation their link address names
        max_connections: 16
      openadr:                    # a CSP's OpenADR 2.0b VTN over HTTP to real (pull) VENs (absent: not served)
        vtn: csp_a                # the CSP's comm node (its csp application has protocol: openadr)
        host: 127.0.0.1
        port: 8080
      openadr_vens:               # the scenario's VENs talk to an external VTN (absent: simulated)
        - device: ven_csp_a       # an openadr_ven device, or an esi_gateway enrolled with protocol openadr
          vtn_url: http://127.0.0.1:8080/OpenADR2/Simple/2.0b   # the VTN's 2.0b simple-HTTP base URL
          ven_name: site-a        # oadrCreatePartyRegistration's venName (default: the device's ven id)
          ven_id: null            # a venID the VTN already gave this VEN (null: the VTN assigns one)
          register_timeout_s: 10  # wall seconds registration may take before the serve fails
          tls: null               # {cert_file, key_file, passphrase, ca_file, vtn_fingerprint, check_hostname: true}
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cosim.scenario.durations import Duration


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Listener(_Model):
    """A server the bench opens: bound to loopback unless the bench says otherwise and means it."""

    host: str = Field("127.0.0.1", description="address the server binds; only the bench decides it")
    allow_non_loopback: bool = Field(False, description="needed to bind anything but loopback (then logged at start)")

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> "_Listener":
        if not is_loopback(self.host) and not self.allow_non_loopback:
            raise ValueError(f"host {self.host!r} is not loopback: it would serve the simulated grid to the network; "
                             "set allow_non_loopback: true to mean it")
        return self


class ModbusServeConfig(_Listener):
    gateway_port: int = Field(default=1502, ge=0, le=65535)
    unit_ids: Literal["sequential", "device"] = "sequential"
    expose: list[str] = Field(default_factory=list)
    allow_protection_writes: bool = False
    writable: dict[str, list[str] | Literal["all"]] = Field(
        default_factory=dict, description="device id -> the control points real masters may write (names), or 'all'")
    allow_all_writes: bool = Field(False, description="every writable point of every served device; overrides writable")
    max_connections: int = Field(default=32, ge=1, le=1024)
    max_connections_per_client: int = Field(default=8, ge=1, le=1024, description="connections one client address may hold")
    idle_timeout_s: float = Field(default=60.0, gt=0, description="wall seconds without a request before a connection is closed")


class PointMapping(_Model):
    """One point of a real device and what it does in the simulation.

    ``action`` maps a bit (coil or discrete input): when it reads ``on`` the
    switch/breaker ``switch`` is opened (``open``) or closed (``close``), once
    per change of the bit. ``record`` maps a register: each poll records
    ``value * scale`` as ``<master id>/<record>`` in ``unit``.
    """

    table: Literal["coils", "discrete_inputs", "holding_registers", "input_registers"]
    address: int = Field(ge=0, le=65535)
    action: Literal["open", "close"] | None = None
    switch: str | None = None
    on: Literal[0, 1] = 1
    record: str | None = None
    unit: str = ""
    scale: float = 1.0

    @model_validator(mode="after")
    def _one_job(self) -> "PointMapping":
        bit = self.table in ("coils", "discrete_inputs")
        if self.action is not None:
            if not bit:
                raise ValueError("an action needs a bit (coils or discrete_inputs)")
            if self.switch is None:
                raise ValueError(f"action {self.action!r} needs the switch it works on")
        elif self.record is None:
            raise ValueError("a point needs an action (with switch) or a record name")
        return self


class MasterConfig(_Model):
    """A real Modbus TCP device the simulation polls (a relay on a test bench)."""

    id: str = Field(min_length=1)
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    poll: Duration = Field(default=1.0, gt=0)
    timeout: Duration = Field(default=0.5, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    points: list[PointMapping] = Field(min_length=1)


class TlsConfig(_Model):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = Field(default=False, description="skip the broker host name check (test benches only)")

    @model_validator(mode="after")
    def _files(self) -> "TlsConfig":
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate)")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name} {str(path)!r} is not a readable file")
        return self


class MqttBrokerConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    tls: TlsConfig | None = None
    keepalive_s: int = Field(default=30, ge=1, le=65535)
    client_id_prefix: str = ""
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    outbox: int = Field(default=1000, ge=1)
    inbox: int = Field(default=1000, ge=1)
    connect_timeout_s: float = Field(default=10.0, gt=0, description="wall seconds the first connection may take before the serve fails")
    allow_degraded: bool = Field(default=False, description="serve without the broker (marked degraded) instead of failing")

    @model_validator(mode="after")
    def _consistent(self) -> "MqttBrokerConfig":
        if self.password is not None and self.username is None:
            raise ValueError("password without username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s is below reconnect_min_s")
        return self


class C37118ServeConfig(_Listener):
    """The scenario's PMUs (those with ``protocols.c37118``) served to real phasor data concentrators."""

    port: int = Field(default=4712, ge=0, le=65535, description="IEEE C37.118.2's registered TCP port; 0 picks a free port")
    max_connections: int = Field(default=8, ge=1, le=256)


class Iec104ServeConfig(_Listener):
    """The scenario's RTUs served as IEC 60870-5-104 controlled stations (through c104)."""

    port: int = Field(default=2404, ge=1, le=65535, description="IEC 60870-5-104's registered TCP port")
    expose: list[str] = Field(min_length=1, description="ids of the RTUs to serve, one station each")
    common_address: Literal["sequential", "device"] = Field("sequential", description="1..n in device-id order, or each entry's unit_id")
    deadband_pct: float = Field(default=1.0, ge=0, le=100, description="a float is sent spontaneously when it moved this much of its last report")
    scan: Duration = Field(default=0.1, gt=0, description="simulated time between looks for changes")
    max_connections: int = Field(default=4, ge=1, le=64)
class Dnp3ServeConfig(_Listener):
    """The scenario's DNP3 outstations (devices with ``protocols.dnp3``) behind one TCP port, routed by link address."""

    port: int = Field(20000, ge=0, le=65535, description="0 picks a free port")
    max_connections: int = Field(16, ge=1)


class OpenAdrServeConfig(_Listener):
    """A CSP's OpenADR 2.0b VTN (``protocol: openadr``) served over HTTP to real VENs (pull model)."""

    vtn: str = Field(description="comm node of the CSP whose VTN is served")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port; 0 picks a free port")


class OpenAdrVenTls(_Model):
    """openleadr's client certificate (TLS and, with ``sign``, XML signatures) and the VTN's certificate checks."""

    cert_file: Path = Field(description="PEM client certificate")
    key_file: Path = Field(description="PEM private key of cert_file")
    passphrase: str | None = None
    ca_file: Path | None = Field(None, description="PEM CA bundle the VTN's server certificate is checked against")
    vtn_fingerprint: str | None = Field(None, description="the VTN's certificate fingerprint (checks signed messages)")
    check_hostname: bool = True
    sign: bool = Field(True, description="sign outgoing messages with cert_file/key_file")

    @model_validator(mode="after")
    def _files(self) -> "OpenAdrVenTls":
        for name in ("cert_file", "key_file", "ca_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name} {str(path)!r} is not a readable file")
        return self


class OpenAdrVenBench(_Model):
    """One of the scenario's VENs pointed at an external OpenADR 2.0b VTN (openleadr's client, pull model)."""

    device: str = Field(min_length=1, description=(
        "id of the scenario's openadr_ven device, or of an esi_gateway enrolled with protocol openadr"))
    vtn_url: str = Field(description="the VTN's OpenADR 2.0b simple-HTTP base URL (http:// or https://)")
    ven_name: str | None = Field(None, min_length=1, description="venName at registration (default: the VEN id)")
    ven_id: str | None = Field(None, min_length=1, description="venID the VTN gave this VEN before (null: assigned)")
    register_timeout_s: float = Field(10.0, gt=0, description="wall seconds registration may take before the serve fails")
    tls: OpenAdrVenTls | None = None

    @field_validator("vtn_url")
    @classmethod
    def _url(cls, url: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
        try:
            parts.port
        except ValueError:
            raise ValueError(f"{url!r} has a bad port") from None
        return url


class HilSettings(_Model):
    factor: float = Field(default=1.0, gt=0)
    monitor_step: Duration = Field(default=0.1, gt=0)
    lag_warn_s: float = Field(default=0.25, gt=0)
    inbox_capacity: int = Field(default=10_000, ge=1)
    modbus: ModbusServeConfig = Field(default_factory=lambda: ModbusServeConfig())
    masters: list[MasterConfig] = Field(default_factory=list)
    mqtt: MqttBrokerConfig | None = None
    c37118: C37118ServeConfig | None = None
    iec104: Iec104ServeConfig | None = None
    dnp3: Dnp3ServeConfig | None = None
    openadr: OpenAdrServeConfig | None = None
    openadr_vens: list[OpenAdrVenBench] = Field(default_factory=list)

    @field_validator("masters")
    @classmethod
    def _unique(cls, masters: list[MasterConfig]) -> list[MasterConfig]:
        ids = [m.id for m in masters]
        if len(set(ids)) != len(ids):
            raise ValueError(f"master ids repeat: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
        return masters

    @field_validator("openadr_vens")
    @classmethod
    def _one_vtn_per_ven(cls, vens: list[OpenAdrVenBench]) -> list[OpenAdrVenBench]:
        ids = [v.device for v in vens]
        if len(set(ids)) != len(ids):
            raise ValueError(f"devices repeat: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
        return vens


class HilFile(_Model):
    """A bench file: one ``hil:`` section (and an optional description)."""

    kind: Literal["hil_bench"] = "hil_bench"
    description: str = ""
    hil: HilSettings = Field(default_factory=lambda: HilSettings())


def load_hil_file(path: str | Path | None) -> HilSettings:
    """The bench settings in ``path`` (defaults when None); raises ScenarioError listing every problem."""
    if path is None:
        return HilSettings()
    from cosim.scenario.loader import load_model_file

    return load_model_file(path, HilFile).hil
