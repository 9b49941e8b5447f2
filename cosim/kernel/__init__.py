"""The simulation kernel: world, clock, random streams and recorder.

Small on purpose: it knows nothing of buses, registers or markets.
"""

from .recorder import Recorder, TableWriter
from .rng import RandomStreams
from .world import World

__all__ = ["World", "Recorder", "TableWriter", "RandomStreams"]
