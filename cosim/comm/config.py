"""The scenario's ``comm:`` section (pydantic v2 models) and :func:`build_network`.

Shape (YAML)::

    comm:
      trace: true                      # write messages.csv (link_stats.csv always)
      keep_alives: simulate            # or account: MQTT pings counted, not simulated, where the way is up (docs/comm.md)
      nodes:
        - {id: scada, actor: operations/scada}
        - {id: wan}
        - {id: rtu1, actor: distribution/substation1}
        - {id: collector1}
      node_groups:                     # many similar nodes, each linked to one of link_to
        - {id_format: "meter{index:05d}", count: 1000, actor: customer/premises,
           link_to: [collector1], link: {profile: ami_rf_mesh}}
      links:
        - {a: scada, b: wan, profile: fibre_wan}
        - {a: wan, b: rtu1, profile: lte, loss: 0.01,           # profile values can be overridden
           outages: [{start_s: 3600, duration_s: 600}], mtbf_s: 86400, mttr_s: 1800}
        - {a: rtu1, b: meter1, latency_s: {dist: lognormal, median_s: 0.4, sigma: 0.5},
           jitter_s: 0.05, bandwidth_bps: 50000, loss: 0.02}
      modbus_servers:
        - {node: rtu1, response_delay_s: 0.005}
      mqtt:
        brokers: [{node: scada, retry_interval_s: 5}]
        topic_schemas:
          - filter: meters/+/reading
            schema: {type: object, required: [kwh], properties: {kwh: {type: number}}}

Cross-reference errors (a link to an unknown node, an unknown profile, a
broker on an unknown node) are raised as ValueErrors whose message starts
with the field path (``links[2].b: unknown node 'x'``), so the scenario
loader can print ``file: field.path: message`` lines.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .profiles import LINK_PROFILES, Delay, DelayKind

if TYPE_CHECKING:
    from cosim.kernel import World

    from .network import CommNetwork


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DelayConfig(_Model):
    """A latency distribution; which parameters are needed depends on ``dist``."""

    dist: Literal["fixed", "normal", "lognormal", "uniform"]
    value_s: float | None = Field(None, ge=0)
    mean_s: float | None = Field(None, ge=0)
    std_s: float | None = Field(None, ge=0)
    median_s: float | None = Field(None, gt=0)
    sigma: float | None = Field(None, ge=0)
    low_s: float | None = Field(None, ge=0)
    high_s: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _needs(self) -> "DelayConfig":
        needs = {"fixed": ("value_s",), "normal": ("mean_s", "std_s"), "lognormal": ("median_s", "sigma"),
                 "uniform": ("low_s", "high_s")}[self.dist]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"dist {self.dist} needs {', '.join(missing)}")
        extra = [n for n in ("value_s", "mean_s", "std_s", "median_s", "sigma", "low_s", "high_s")
                 if n not in needs and getattr(self, n) is not None]
        if extra:
            raise ValueError(f"dist {self.dist} does not take {', '.join(extra)}")
        if self.dist == "uniform" and self.high_s < self.low_s:  # type: ignore[operator]
            raise ValueError("uniform needs low_s <= high_s")
        return self

    def to_delay(self) -> Delay:
        values = {k: v for k, v in self.model_dump(exclude={"dist"}).items() if v is not None}
        return Delay(DelayKind(self.dist), **values)


class OutageConfig(_Model):
    start_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)


class NodeConfig(_Model):
    id: str = Field(min_length=1)
    actor: str | None = None


class LinkParams(_Model):
    """What a link is like: a named profile and/or explicit values (explicit wins)."""

    profile: str | None = None
    latency_s: float | DelayConfig | None = None
    jitter_s: float | None = Field(None, ge=0)
    bandwidth_bps: float | None = Field(None, gt=0)
    loss: float | None = Field(None, ge=0, le=1)
    overhead_bytes: int | None = Field(None, ge=0)
    outages: list[OutageConfig] = []
    mtbf_s: float | None = Field(None, gt=0)
    mttr_s: float | None = Field(None, gt=0)

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is not None and value not in LINK_PROFILES:
            raise ValueError(f"unknown link profile {value!r} (known: {', '.join(sorted(LINK_PROFILES))})")
        return value

    @field_validator("latency_s")
    @classmethod
    def _non_negative(cls, value: Any) -> Any:
        if isinstance(value, float) and value < 0:
            raise ValueError("latency_s must be >= 0")
        return value

    @model_validator(mode="after")
    def _complete(self) -> "LinkParams":
        if self.profile is None:
            missing = [n for n in ("latency_s", "bandwidth_bps") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"a link without a profile needs {' and '.join(missing)}")
        if (self.mtbf_s is None) != (self.mttr_s is None):
            raise ValueError("random outages need both mtbf_s and mttr_s")
        return self

    def latency(self) -> Delay:
        if self.latency_s is None:
            return LINK_PROFILES[self.profile].latency  # type: ignore[index]
        if isinstance(self.latency_s, DelayConfig):
            return self.latency_s.to_delay()
        return Delay.fixed(float(self.latency_s))

    def value(self, name: str) -> Any:
        own = getattr(self, name)
        if own is not None:
            return own
        return getattr(LINK_PROFILES[self.profile], name) if self.profile else 0


class LinkConfig(LinkParams):
    """A link between nodes ``a`` and ``b``."""

    a: str
    b: str
    name: str | None = None

    @model_validator(mode="after")
    def _two_ends(self) -> "LinkConfig":
        if self.a == self.b:
            raise ValueError(f"a link joins two different nodes (a and b are both {self.a!r})")
        return self

    def link_name(self) -> str:
        return self.name or f"{self.a}--{self.b}"


ID_FORMAT_MAX_CHARS = 100
"""Longest member id (as scenario identifiers); a format may not pad past it."""
_FORMAT_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?#?0?(?P<width>\d{1,3})?[,_]?[bdoxXn]?$")


def check_id_format(value: str) -> None:
    """Refuse an ``id_format`` that is not ``{index}`` with a plain integer spec, or that makes long ids.

    ``str.format`` would follow ``{index.real.__class__}`` (attribute access)
    and allocate whatever width ``{index:>300000000}`` asks for, so the
    format is parsed and bounded before it is ever used.
    """
    fields = 0
    literal = 0
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"id_format is not a format string: {exc}") from None
    for text, field, spec, conversion in parts:
        literal += len(text)
        if field is None:
            continue
        fields += 1
        if field != "index" or conversion is not None:
            raise ValueError(f"id_format must use only {{index}}, without attributes or conversions (e.g. 'meter{{index:05d}}'), not {{{field}}}")
        match = _FORMAT_SPEC.match(spec or "")
        if match is None:
            raise ValueError(f"id_format: {{index:{spec}}} is not an integer format such as {{index:05d}}")
        literal += int(match.group("width") or 0)
    if fields == 0:
        raise ValueError("id_format must contain {index} so that member ids differ")
    if literal > ID_FORMAT_MAX_CHARS:
        raise ValueError(f"id_format makes ids longer than {ID_FORMAT_MAX_CHARS} characters")


MEMBER_BYTES_ESTIMATE = 6_500
"""Memory one node_group member costs in a run (its comm node, link, queues and its meter's arrays).

Measured with ``cosim run`` on generated meter populations of 50,000 and
100,000 members (peak RSS 423 MB and 742 MB: about 6.4 KB a member); see
docs/benchmarks.md.
"""
MAX_GROUP_MEMBERS = 200_000
"""All node_groups together; about 1.3 GB by the estimate above."""


class NodeGroupConfig(_Model):
    """Many similar nodes (meters, premises), each linked to one of ``link_to``.

    Member ``i`` is ``id_format.format(index=i)`` and links to
    ``link_to[i * len(link_to) // count]`` (consecutive blocks per target),
    the link named ``"<member>--<target>"``.
    """

    id_format: str
    count: int = Field(ge=1)
    actor: str | None = None
    link_to: list[str] = Field(min_length=1)
    link: LinkParams

    @field_validator("id_format")
    @classmethod
    def _formats(cls, value: str) -> str:
        check_id_format(value)
        return value

    def member_ids(self) -> list[str]:
        return [self.id_format.format(index=i) for i in range(self.count)]

    def target_of(self, index: int) -> str:
        return self.link_to[index * len(self.link_to) // self.count]


class ModbusServerConfig(_Model):
    node: str
    response_delay_s: float = Field(0.0, ge=0)


class BrokerConfig(_Model):
    node: str
    retry_interval_s: float = Field(5.0, gt=0)
    max_packet_bytes: int = Field(268_435_455, gt=0, le=268_435_455)
    """The longest packet accepted (its MQTT remaining length); a longer one closes the connection."""


class TopicSchemaConfig(_Model):
    """A JSON Schema the payloads of topics matching ``filter`` must satisfy."""

    filter: str
    schema_: dict[str, Any] = Field(alias="schema")

    @field_validator("filter")
    @classmethod
    def _valid_filter(cls, value: str) -> str:
        from .mqtt.topics import check_topic_filter

        check_topic_filter(value)
        return value

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        import jsonschema

        try:
            jsonschema.validators.validator_for(value).check_schema(value)
        except jsonschema.exceptions.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        return value


class MqttConfig(_Model):
    brokers: list[BrokerConfig] = []
    topic_schemas: list[TopicSchemaConfig] = []


class CommConfig(_Model):
    """The ``comm:`` section of a scenario."""

    trace: bool = True
    keep_alives: Literal["simulate", "account"] = Field(
        "simulate", description="MQTT PINGREQ/PINGRESP: every packet simulated, or accounted where the way is up, "
        "their loss drawn per link (docs/comm.md: when that is exact)")
    nodes: list[NodeConfig] = []
    node_groups: list[NodeGroupConfig] = []
    links: list[LinkConfig] = []
    modbus_servers: list[ModbusServerConfig] = []
    mqtt: MqttConfig = MqttConfig()

    @field_validator("nodes")
    @classmethod
    def _unique_nodes(cls, nodes: list[NodeConfig]) -> list[NodeConfig]:
        seen: set[str] = set()
        for index, node in enumerate(nodes):
            if node.id in seen:
                raise ValueError(f"nodes[{index}].id: duplicate node id {node.id!r}")
            seen.add(node.id)
        return nodes

    @field_validator("node_groups")
    @classmethod
    def _groups_join_known_nodes(cls, groups: list[NodeGroupConfig], info: ValidationInfo) -> list[NodeGroupConfig]:
        total = sum(group.count for group in groups)
        if total > MAX_GROUP_MEMBERS:
            raise ValueError(
                f"node_groups have {total:,} members, which would need about {total * MEMBER_BYTES_ESTIMATE / 1e9:.1f} GB "
                f"to run (about {MEMBER_BYTES_ESTIMATE / 1e3:.1f} KB each); the limit is {MAX_GROUP_MEMBERS:,} members")
        if "nodes" not in info.data:  # the nodes are broken and reported: nothing to check against
            return groups
        known = {n.id for n in info.data["nodes"]}
        for index, group in enumerate(groups):
            for t, target in enumerate(group.link_to):
                if target not in known:
                    raise ValueError(f"node_groups[{index}].link_to[{t}]: unknown node {target!r} "
                                     "(groups link to nodes declared under nodes:)")
            members = group.member_ids()
            if len(set(members)) != len(members):
                raise ValueError(f"node_groups[{index}].id_format: member ids repeat")
            clash = known.intersection(members)
            if clash:
                raise ValueError(f"node_groups[{index}].id_format: id {sorted(clash)[0]!r} is already a node")
            known.update(members)
        return groups

    @field_validator("links")
    @classmethod
    def _links_join_known_nodes(cls, links: list[LinkConfig], info: ValidationInfo) -> list[LinkConfig]:
        known = _all_node_ids(info)
        if known is None:
            return links
        pairs: set[frozenset[str]] = set()
        names: set[str] = set()
        for index, link in enumerate(links):
            for end in ("a", "b"):
                node = getattr(link, end)
                if node not in known:
                    raise ValueError(f"links[{index}].{end}: unknown node {node!r}")
            pair = frozenset((link.a, link.b))
            if pair in pairs:
                raise ValueError(f"links[{index}]: {link.a} and {link.b} are already linked")
            pairs.add(pair)
            if link.link_name() in names:
                raise ValueError(f"links[{index}].name: duplicate link name {link.link_name()!r}")
            names.add(link.link_name())
        return links

    @field_validator("modbus_servers")
    @classmethod
    def _servers_on_known_nodes(cls, servers: list[ModbusServerConfig], info: ValidationInfo) -> list[ModbusServerConfig]:
        known = _all_node_ids(info)
        if known is None:
            return servers
        for index, server in enumerate(servers):
            if server.node not in known:
                raise ValueError(f"modbus_servers[{index}].node: unknown node {server.node!r}")
        return servers

    @field_validator("mqtt")
    @classmethod
    def _brokers_on_known_nodes(cls, mqtt: MqttConfig, info: ValidationInfo) -> MqttConfig:
        known = _all_node_ids(info)
        if known is None:
            return mqtt
        for index, broker in enumerate(mqtt.brokers):
            if broker.node not in known:
                raise ValueError(f"mqtt.brokers[{index}].node: unknown node {broker.node!r}")
        return mqtt


def build_network(world: World, config: CommConfig) -> CommNetwork:
    """Build the network a validated ``comm:`` section describes (outages scheduled, brokers placed).

    The caller registers the result as the world's ``"comm"`` service and
    calls :meth:`CommNetwork.finish` when the run ends.
    """
    from .mqtt.broker import json_schema_check
    from .network import CommNetwork, KeepAlives

    network = CommNetwork(world, trace=config.trace, keep_alives=KeepAlives(config.keep_alives))
    for node in config.nodes:
        network.add_node(node.id, node.actor)
    for group in config.node_groups:
        for index, member in enumerate(group.member_ids()):
            network.add_node(member, group.actor)
            _add_link(network, member, group.target_of(index), f"{member}--{group.target_of(index)}", group.link)
    for link in config.links:
        _add_link(network, link.a, link.b, link.link_name(), link)
    for server in config.modbus_servers:
        network.modbus_server(server.node, server.response_delay_s)
    schemas = [(s.filter, json_schema_check(s.schema_)) for s in config.mqtt.topic_schemas]
    for broker in config.mqtt.brokers:
        network.add_mqtt_broker(broker.node, broker.retry_interval_s, schemas, broker.max_packet_bytes)
    return network


def _add_link(network: CommNetwork, a: str, b: str, name: str, params: LinkParams) -> None:
    network.add_link(a, b, params.latency(), float(params.value("bandwidth_bps")),
                     jitter_s=float(params.value("jitter_s")), loss=float(params.value("loss")),
                     overhead_bytes=int(params.value("overhead_bytes")), name=name, profile=params.profile)
    for outage in params.outages:
        network.schedule_outage(name, outage.start_s, outage.duration_s)
    if params.mtbf_s is not None and params.mttr_s is not None:
        network.random_outages(name, params.mtbf_s, params.mttr_s)


def _all_node_ids(info: ValidationInfo) -> set[str] | None:
    """Every node id, or None when nodes or node_groups failed validation (their problems are reported)."""
    if "nodes" not in info.data or "node_groups" not in info.data:
        return None
    known = {n.id for n in info.data["nodes"]}
    for group in info.data["node_groups"]:
        known.update(group.member_ids())
    return known
