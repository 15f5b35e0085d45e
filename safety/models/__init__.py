"""Safety records: care directory, word rules, moderation, guidelines, audit."""

from .audit import AuditLog, ImmutableRecordError
from .care import CareResource, CareTopic, PinnedResource, ResourceKind
from .guidelines import GuidelinesAcceptance, GuidelinesVersion
from .moderation import (
    AlertDelivery,
    AlertTier,
    GroupSafetyPolicy,
    HeldMessage,
    Mute,
    Report,
    SafetyAlert,
)
from .rules import FilterAction, WordAllow, WordRule

__all__ = [
    "AlertDelivery",
    "AlertTier",
    "AuditLog",
    "CareResource",
    "CareTopic",
    "FilterAction",
    "GroupSafetyPolicy",
    "GuidelinesAcceptance",
    "GuidelinesVersion",
    "HeldMessage",
    "ImmutableRecordError",
    "Mute",
    "PinnedResource",
    "Report",
    "ResourceKind",
    "SafetyAlert",
    "WordAllow",
    "WordRule",
]
