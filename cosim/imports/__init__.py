"""Readers of other tools' network files, registered with the electrical layer's case loader on import.

The electrical layer (cosim.grid) depends on numpy and scipy only; a reader
that needs another package (pandapower) lives here and imports it lazily.
"""

from . import pandapower  # noqa: F401  (registers the pandapower JSON reader)
