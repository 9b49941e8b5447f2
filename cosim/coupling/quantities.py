"""Grid quantities named as text, ``kind/name/quantity`` (``bus/n3/vm_pu``, ``load/house_1/p_mw``).

The form HELICS configurations use in a publication's or input's ``info``
field, and the same names mosaik sees as attributes (mosaik_meta.ELEMENT_MODELS).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..grid import GridMeasurements
from .inputs import ElementKind, ExternalGrid, ExternalInput
from .mosaik_meta import ELEMENT_MODELS

MODEL_OF_KIND = {ElementKind.BUS: "Bus", ElementKind.BRANCH: "Branch", ElementKind.LOAD: "Load",
                 ElementKind.DER: "Der", ElementKind.GENERATOR: "Generator"}


@dataclass(frozen=True)
class Quantity:
    """One readable or settable quantity of one grid element."""

    kind: ElementKind
    name: str
    quantity: str

    @classmethod
    def parse(cls, text: str, settable: bool) -> Quantity:
        """``"load/house_1/p_mw"`` -> Quantity; ValueError naming what is wrong and what is allowed."""
        parts = text.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{text!r}: expected kind/name/quantity, e.g. bus/n3/vm_pu")
        try:
            kind = ElementKind(parts[0])
        except ValueError:
            raise ValueError(f"{text!r}: kind must be one of {', '.join(k.value for k in ElementKind)}") from None
        spec = ELEMENT_MODELS[MODEL_OF_KIND[kind]]
        allowed = spec["inputs"] if settable else spec["outputs"]
        if parts[2] not in allowed:
            what = "settable" if settable else "readable"
            raise ValueError(f"{text!r}: a {kind.value}'s {what} quantities are {', '.join(allowed) or 'none'}")
        return cls(kind, parts[1], parts[2])

    def read(self, m: GridMeasurements) -> float:
        """The value now, as a float (booleans as 0/1)."""
        if self.kind is ElementKind.BUS:
            v = m.bus_voltage(self.name)
            value: float | bool = {"vm_pu": v.vm_pu, "va_deg": v.va_deg, "v_kv": v.v_kv, "energised": v.energised}[self.quantity]
        elif self.kind is ElementKind.BRANCH:
            b = m.branch(self.name)
            value = {"p_from_mw": b.p_mw, "q_from_mvar": b.q_mvar, "i_from_a": b.i_a, "closed": b.closed}[self.quantity]
        elif self.kind is ElementKind.LOAD:
            if self.quantity == "vm_pu":
                k = m.network.loads.index(self.name)
                value = m.bus_voltage(m.network.buses.name[int(m.network.loads.bus[k])]).vm_pu
            else:
                load = m.load(self.name)
                value = {"p_mw": load.p_mw, "q_mvar": load.q_mvar, "served": load.served}[self.quantity]
        else:
            reading = m.der(self.name) if self.kind is ElementKind.DER else m.generator(self.name)
            value = {"p_mw": reading.p_mw, "q_mvar": reading.q_mvar}[self.quantity]
        return float(value)

    def check_exists(self, grid: ExternalGrid) -> None:
        if self.name not in grid.names(self.kind):
            raise ValueError(f"{self.kind.value}/{self.name}: no such {self.kind.value} in the scenario's grid")


def apply_values(grid: ExternalGrid, values: dict[Quantity, float]) -> None:
    """Set every element's new values at once (P and Q of one element together)."""
    by_element: dict[tuple[ElementKind, str], dict[str, float]] = {}
    for quantity, value in values.items():
        by_element.setdefault((quantity.kind, quantity.name), {})[quantity.quantity] = value
    for (kind, name), settings in sorted(by_element.items(), key=lambda item: (item[0][0].value, item[0][1])):
        if "p_mw" not in settings:
            raise ValueError(f"{kind.value}/{name}: q_mvar needs p_mw beside it")
        grid.apply(ExternalInput(kind, name, settings["p_mw"], settings.get("q_mvar")))
