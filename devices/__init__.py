"""Field devices: the only things that touch both the electrical and the information layer.

This package holds what a device is made of, each part testable without the
grid or the network:

* ``registermap``, ``encoding``, ``registerstore`` -- register maps as data and
  the checked store behind a device's Modbus server (``RegisterBank``);
* ``registermaps`` -- one map per device kind (``standard_map``, ``rtu_map``);
* ``protection`` -- curves (IEEE C37.112, IEC 60255-151) and sans-IO 50/51,
  recloser and sectionalizer state machines; ``capacitorcontrol`` likewise;
* ``intents`` -- what the logic asks the grid to do; ``gridbinding`` turns them into grid actions;
* ``settingsbinding`` -- settings registers to settings objects, and write checks;
* ``noise`` -- measurement error and quantisation;
* ``config`` -- the scenario's ``devices:`` entries as pydantic models, one per kind;
* ``field`` -- the devices themselves, one SimPy process each (``field.base``:
  the loop, the ``devices`` service ``DeviceLayer``, shared node MQTT clients;
  one module per kind; ``meter_population`` for arrays of meters);
* ``docs`` -- ``python -m devices.docs`` writes ``docs/devices``.
"""
