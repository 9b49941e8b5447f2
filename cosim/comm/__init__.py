"""The information layer: simulated communication network, Modbus and MQTT over it, message trace.

Public entry points:

* :func:`build_network` (from the scenario's ``comm:`` section, :class:`CommConfig`)
  -> :class:`CommNetwork`, registered as the world service ``"comm"``;
* ``network.modbus_server(node)`` / ``network.modbus_client(node, server_node)``;
* ``network.mqtt_client(node, client_id, broker_node)``;
* ``network.finish()`` -> :class:`NetworkStatistics` (writes ``link_stats.csv``).

Endpoint interfaces for device and application code are in
:mod:`cosim.comm.interfaces`; exceptions in :mod:`cosim.comm.errors`.
This package never imports :mod:`cosim.grid`.
"""

from .config import CommConfig, build_network
from .errors import CommError, ModbusResponseError, ModbusTimeoutError, MqttError
from .interfaces import ModbusClient, ModbusServerEndpoint, ModbusTransport, MqttClient, MqttMessage, QoS
from .modbus.datamodel import ArrayRegisterBank, ExceptionCode, ModbusError, ModbusTable, RegisterBank
from .mqtt.packets import Will
from .network import CommNetwork, DropReason, Link, Message
from .profiles import LINK_PROFILES, Delay, DelayKind, LinkProfile
from .trace import LinkSummary, NetworkStatistics

__all__ = [
    "CommConfig", "build_network", "CommNetwork", "Message", "Link", "DropReason",
    "LINK_PROFILES", "Delay", "DelayKind", "LinkProfile", "LinkSummary", "NetworkStatistics",
    "ModbusClient", "ModbusServerEndpoint", "ModbusTransport", "MqttClient", "MqttMessage", "QoS",
    "CommError", "ModbusTimeoutError", "ModbusResponseError", "MqttError",
    "ArrayRegisterBank", "ExceptionCode", "ModbusError", "ModbusTable", "RegisterBank", "Will",
]
