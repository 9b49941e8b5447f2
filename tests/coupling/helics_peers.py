"""The other members of the test federation, each run as its own process.

``broker PORT N``: a HELICS broker for N federates on 127.0.0.1:PORT.
``households PORT PROFILE OUT``: a value federate that plays household_profiles.csv
(a publication per column, every 900 s) and writes the feeder-end voltage it
receives to OUT as JSON.
"""

from __future__ import annotations

import csv
import json
import sys
import time

import helics as h


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
    h.helicsFederateInfoSetCoreInitString(info, f"--federates=1 --broker_address=127.0.0.1:{port}")
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


if __name__ == "__main__":
    {"broker": broker, "households": households}[sys.argv[1]](*sys.argv[2:])
