"""Protection logic as sans-IO state machines stepped on (time_s, current_a) samples.

Each machine is plain Python: a device process feeds it samples in simulated
time, asks ``next_event_time_s()`` when it should be woken even if nothing
changes, and forwards the returned intents (:mod:`devices.intents`).
"""
