"""Hardware in the loop: the world paced to the wall clock, real sockets and a real broker at its edges.

One core, thin edges. Requests from real Modbus masters are answered by the
same sans-IO :class:`cosim.comm.modbus.server.ModbusServer` as in simulation;
the simulation polls real devices through the same
:class:`cosim.comm.modbus.client.ModbusMaster` over a TCP
:class:`cosim.comm.interfaces.ModbusTransport`; MQTT devices use a paho-mqtt
client behind the :class:`cosim.comm.interfaces.MqttClient` protocol.

Threads: SimPy, the grid and every register store belong to the one thread
that runs :class:`RealtimeLoop`. Socket and broker I/O runs elsewhere (one
asyncio loop thread, paho's network thread) and hands work to the SimPy thread
through a bounded :class:`SimInbox`; nothing else crosses threads.

* :mod:`.bridge`     -- the thread boundary (SimInbox, IoThread)
* :mod:`.clock`      -- the real-time loop and the lag monitor
* :mod:`.modbus_tcp` -- Modbus TCP server edge and client transport
* :mod:`.external`   -- polling a real device and mapping its points to grid actions
* :mod:`.mqtt`       -- paho-mqtt client implementing the MqttClient protocol
* :mod:`.config`     -- the ``hil:`` settings; :mod:`.session` assembles them; :mod:`.command` is ``cosim serve``
"""

from .bridge import IoThread, SimInbox
from .clock import RealtimeLoop

__all__ = ["IoThread", "RealtimeLoop", "SimInbox"]
