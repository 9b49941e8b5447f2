"""Connects the layers to a World for a scenario: the grid service and its sampler, the comm network.

The kernel knows nothing of layers and the layers know nothing of scenarios;
this package is where a scenario's sections become services and processes.
"""
