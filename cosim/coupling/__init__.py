"""Coupling gridcosim with the world outside one run: the Python API's inputs, mosaik and HELICS.

Another simulator's household, PV plant or network model stands for the
physical world beyond the scenario, like a scenario event does: what it
sets (a load's demand, a DER's output) enters the electrical layer here, and
only here, through :class:`ExternalGrid`.
"""

from .inputs import ElementKind, ExternalGrid

__all__ = ["ElementKind", "ExternalGrid"]
