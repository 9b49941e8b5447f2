"""Energy Services Interface (ESI) gateway at a premise: price, demand response, premise load.

The ESI is the Customer domain's gateway to the Service Provider and Markets
domains in the NIST conceptual model: it receives prices and demand-response
events and reports premise consumption. Registers give a master the same
view the MQTT side publishes.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, CO, DI, HR, I32, IR, RW, U16, U32

POINTS: tuple[Point, ...] = (
    Point("premise_demand_w", IR, 0, I32, 1.0, "W", description="Premise active power, positive = import"),
    Point("premise_energy_import_wh", IR, 2, U32, 1.0, "Wh", description="Premise energy imported, cumulative (rolls over at 2^32 Wh)"),
    Point("price_per_kwh", IR, 4, U32, 0.0001, "currency/kWh", description="Current energy price"),
    Point("price_tier", IR, 6, U16, default=1,
          description="Current price tier (1 lowest; 1 until the first price signal)"),
    Point("demand_limit_w", HR, 0, U32, 1.0, "W", RW, 0, 1_000_000, default=0,
          description="Premise demand limit during an event; 0 none"),
    Point("dr_event_id", HR, 2, U16, 1.0, "", RW, 0, 65535, description="Identifier of the demand-response event"),
    Point("dr_duration_min", HR, 3, U16, 1.0, "min", RW, 0, 1440, description="Event duration"),
    Point("dr_load_reduction_pct", HR, 4, U16, 1.0, "%", RW, 0, 100, description="Requested load reduction"),
    Point("dr_event_start", CO, 0, BOOL, access=RW, description="Write 1: start the event set up in the holding registers"),
    Point("dr_opt_out", CO, 1, BOOL, access=RW, description="Customer opt-out of the running event"),
    Point("dr_event_active", DI, 0, BOOL, description="A demand-response event is running"),
    Point("grid_connected", DI, 1, BOOL, default=True, description="Premise supply present"),
)


def esi_gateway_map() -> RegisterMap:
    """The ESI gateway's register map."""
    return RegisterMap("ESI gateway", POINTS, WordOrder.BIG, description=__doc__ or "")
