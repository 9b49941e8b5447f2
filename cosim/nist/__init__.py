"""The NIST Smart Grid Conceptual Model: domains, actors, applications, associations."""

from .model import (
    ELECTRICAL_DOMAINS,
    Actor,
    Application,
    Association,
    AssociationKind,
    CustomerSegment,
    Domain,
    SmartGridModel,
)

__all__ = [
    "Actor",
    "Application",
    "Association",
    "AssociationKind",
    "CustomerSegment",
    "Domain",
    "ELECTRICAL_DOMAINS",
    "SmartGridModel",
]
