"""The physical world beyond any actor's control: what people and nature do to the grid, by hand or by weather.

DESIGN's rule is that only field devices join the two layers. Some things
that change the grid are no actor's decision and pass through no
information system, so no device stands between them and the wires:

* :mod:`.premises` -- what a premise's appliances draw (its natural demand)
  and what the sun gives its panels. The demand reaches the grid through the
  premise's ESI gateway when it has one (the gateway then sheds for DR), else
  straight onto the load, as appliances draw current with no controller in
  between; the sun's power reaches the grid only through the DER inverter.
* :mod:`.fieldwork` -- a crew's hands on site: repairing the damage, working
  a switch at its local control or handle, looking at the line on patrol.
* :mod:`.truth` -- the ground truth of which customers are served, recorded
  to check the OMS against; it is the study's instrument, not an actor's.

Each module is named in the architecture rules (``tests/architecture_rules.py``)
with this reason, and besides each other only the application registry and
the crews' dispatcher may import them, so the exemption cannot be borrowed: a
domain, Operations or Markets module that acts on the grid through here is
caught. A new module in this package is not exempt until it is named there.
"""
