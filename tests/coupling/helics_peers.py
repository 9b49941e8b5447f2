"""The other members of the test federation, each run as its own process.

``broker PORT N``: a HELICS broker for N federates on 127.0.0.1:PORT.
``households PORT PROFILE OUT``: a value federate that plays household_profiles.csv
(a publication per column, every 900 s) and writes the feeder-end voltage it
receives to OUT as JSON.
``network PORT DELAY_S DROP_EVERY OUT ENDPOINT...``: a stand-in for a network
simulator such as ns-3, joined the way those join a federation: a reroute
filter takes every message sent from the given endpoints, and the federate
sends it on to its original destination DELAY_S later, except every
DROP_EVERY-th message (0: none), which it drops. It writes what it carried
(time, size, destination, dropped) to OUT as JSON.
"""

from __future__ import annotations

import csv
import json
import sys
import time

import helics as h
from helics_federation import free_port  # this script's folder is on sys.path when it runs


def core_init(broker_port: str) -> str:
    """A federate's core on loopback with a port of its own: left to HELICS, cores take ports next to the
    broker's, which another test's sockets may still hold."""
    return f"--federates=1 --broker_address=127.0.0.1:{broker_port} --localinterface=127.0.0.1 --localport={free_port()}"


def broker(port: str, federates: str) -> None:
    b = h.helicsCreateBroker("tcp", "", f"-f {federates} --localinterface=127.0.0.1 --localport={port} --loglevel=warning")
    while h.helicsBrokerIsConnected(b):
        time.sleep(0.02)
    h.helicsBrokerFree(b)


def households(port: str, profile: str, out: str) -> None:
    with open(profile) as f:
        rows = list(csv.reader(f))[1:]
    header, body = rows[0], rows[1:]
    info = h.helicsCreateFederateInfo()
    h.helicsFederateInfoSetCoreTypeFromString(info, "tcp")
    h.helicsFederateInfoSetCoreInitString(info, core_init(port))
    h.helicsFederateInfoSetTimeProperty(info, h.HELICS_PROPERTY_TIME_PERIOD, 900.0)
    fed = h.helicsCreateValueFederate("households", info)
    pubs = {name: h.helicsFederateRegisterGlobalPublication(fed, f"households/{name}", h.HELICS_DATA_TYPE_DOUBLE, "MW")
            for name in header[1:]}
    voltage = h.helicsFederateRegisterSubscription(fed, "gridcosim/n3_vm_pu", "pu")
    received: dict[str, float] = {}
    try:
        # The first interval's values are published while initializing, so they hold from 0 s.
        h.helicsFederateEnterInitializingMode(fed)
        t = 0.0
        for k, row in enumerate(body):
            if k == 1:
                h.helicsFederateEnterExecutingMode(fed)
            if k > 0:
                t = h.helicsFederateRequestTime(fed, 900.0 * k)
            for name, value in zip(header[1:], row[1:]):
                h.helicsPublicationPublishDouble(pubs[name], float(value))
            if h.helicsInputIsUpdated(voltage):
                received[f"{t:.0f}"] = h.helicsInputGetDouble(voltage)
        h.helicsFederateRequestTime(fed, 86400.0)
        if h.helicsInputIsUpdated(voltage):
            received["86400"] = h.helicsInputGetDouble(voltage)
    finally:
        h.helicsFederateDisconnect(fed)
        h.helicsFederateFree(fed)
    with open(out, "w") as f:
        json.dump(received, f, sort_keys=True)


def network(port: str, delay_s: str, drop_every: str, out: str, *endpoints: str) -> None:
    info = h.helicsCreateFederateInfo()
    h.helicsFederateInfoSetCoreTypeFromString(info, "tcp")
    h.helicsFederateInfoSetCoreInitString(info, core_init(port))
    fed = h.helicsCreateMessageFederate("network", info)
    port_ep = h.helicsFederateRegisterEndpoint(fed, "port", "")
    reroute = h.helicsFederateRegisterGlobalFilter(fed, h.HELICS_FILTER_TYPE_REROUTE, "network/into_simulator")
    for name in endpoints:
        h.helicsFilterAddSourceTarget(reroute, name)
    h.helicsFilterSetString(reroute, "newdestination", h.helicsEndpointGetName(port_ep))
    carried: list[list[object]] = []
    every = int(drop_every)
    try:
        h.helicsFederateEnterExecutingMode(fed)
        while True:
            t = h.helicsFederateRequestTime(fed, h.HELICS_TIME_MAXTIME)
            if t >= h.HELICS_TIME_MAXTIME:
                break
            while h.helicsEndpointHasMessage(port_ep):
                message = h.helicsEndpointGetMessage(port_ep)
                data = h.helicsMessageGetBytes(message)
                destination = h.helicsMessageGetOriginalDestination(message)
                dropped = every > 0 and (len(carried) + 1) % every == 0
                carried.append([t, len(data), destination, dropped])
                if not dropped:
                    h.helicsEndpointSendBytesToAt(port_ep, data, destination, t + float(delay_s))
    finally:
        h.helicsFederateDisconnect(fed)
        h.helicsFederateFree(fed)
    with open(out, "w") as f:
        json.dump(carried, f)


if __name__ == "__main__":
    {"broker": broker, "households": households, "network": network}[sys.argv[1]](*sys.argv[2:])
