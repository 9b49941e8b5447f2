"""gridcosim: a discrete-event co-simulation of the NIST Smart Grid Conceptual Model.

Two layers, electrical (:mod:`cosim.grid`) and information (:mod:`cosim.comm`),
joined only by field devices (:mod:`devices`); the seven NIST domains run as
SimPy processes over one :class:`cosim.kernel.World`.
"""

__version__ = "0.1.0"
