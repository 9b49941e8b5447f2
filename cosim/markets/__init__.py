"""Markets domain engines: capacity auction, DR plans, SCED, dispatch, M&V, billing.

Pure functions over numpy arrays and frozen dataclasses; the Markets and
Service Provider domain processes call them and exchange their inputs and
outputs as messages over ``cosim.comm``. See ``docs/markets.md``.
"""
