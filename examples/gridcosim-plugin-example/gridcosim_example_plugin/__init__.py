"""An example gridcosim plugin: one device kind, one event kind and one application kind.

Importing the package registers them (gridcosim does so through the entry
point in pyproject.toml): ``smart_plug`` (a device switching and metering one
load, with its own Modbus register map), ``load_step`` (a scenario event that
sets a load) and ``meter_watch`` (a Service Provider application that reads
smart-meter intervals over MQTT and flags high ones).
"""

from . import load_step, meter_watch, smart_plug  # noqa: F401  (each registers its kind)
