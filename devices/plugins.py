"""Device kinds from outside the project: a plugin adds a config model and a device class as one kind.

The built-in kinds are tables (``devices.config.CONFIG_MODELS``,
``devices.field.DEVICE_CLASSES``); a plugin's kind joins both, after the same
checks a built-in one passes by construction.
"""

from __future__ import annotations

import typing
from typing import Any

from devices.config import CONFIG_MODELS, DeviceConfig
from devices.field import DEVICE_CLASSES, FieldDevice


PLUGIN_KINDS: set[str] = set()
"""Kinds registered here rather than built in (the generated device docs leave them out)."""


def register_device_kind(config_model: type[DeviceConfig], device_class: type[FieldDevice]) -> str:
    """Add a device kind; returns its name. ValueError if the kind is taken or the two disagree on it.

    The kind is the ``Literal`` of the config model's ``kind`` field and the
    device class's ``kind`` attribute, as for the built-in kinds.
    """
    annotation = config_model.model_fields["kind"].annotation
    literals: tuple[Any, ...] = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
    if len(literals) != 1 or not isinstance(literals[0], str):
        raise ValueError(f"{config_model.__name__}.kind must be a Literal of one string (the kind's name)")
    kind = literals[0]
    if getattr(device_class, "kind", None) != kind:
        raise ValueError(f"{device_class.__name__}.kind must be {kind!r}, as its config model says")
    if kind in CONFIG_MODELS or kind in DEVICE_CLASSES:
        raise ValueError(f"device kind {kind!r} is already registered")
    CONFIG_MODELS[kind] = config_model
    DEVICE_CLASSES[kind] = device_class
    PLUGIN_KINDS.add(kind)
    return kind
