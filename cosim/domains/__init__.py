"""The seven NIST domains as SimPy processes, and the application kinds their actors run.

Importing this package registers every application kind.
"""

from ..physical import premises, truth  # noqa: F401  (registers the physical world's applications: demand, PV, outage truth)
from . import bulk_generation  # noqa: F401  (registers applications)
from . import markets, operations_dr, service_provider  # noqa: F401  (DR and market applications)
from . import operations_pdc  # noqa: F401  (phasor data concentrator)
from . import operations_dnp3  # noqa: F401  (DNP3 master)
from . import operations_iec104  # noqa: F401  (IEC 104 controlling station)
from . import distribution, operations  # noqa: F401  (registers applications)
from .context import RunContext
from .process import domain_process
from .registry import APPLICATIONS, ApplicationKind, Params, application

__all__ = ["APPLICATIONS", "ApplicationKind", "Params", "RunContext", "application", "domain_process"]
