"""The HTML report of one run: NIST diagram, plots, message sequence chart, tables, event log.

``rundata`` finds what the results folder holds, ``diagram``, ``plots``,
``sequence`` and ``tables`` each draw one kind of section, and ``page`` puts
them into one self-contained file. See docs/report.md.
"""
