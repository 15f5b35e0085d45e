"""Versioned group guidelines and their acceptance."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from groups import access as group_access
from groups.models import SupportGroup
from safety.models import GuidelinesAcceptance, GuidelinesVersion

from .audit import audit


def record_guidelines(group: SupportGroup) -> GuidelinesVersion:
    """The group's current version, creating a new one when its guidelines
    text differs from the latest version (or none exists yet)."""
    versions = GuidelinesVersion.objects.filter(group=group).order_by("-number")
    latest = versions.first()
    if latest is not None and latest.text == group.guidelines:
        return latest
    number = (latest.number if latest else 0) + 1
    try:
        with transaction.atomic():
            return GuidelinesVersion.objects.create(
                group=group, number=number, text=group.guidelines
            )
    except IntegrityError:  # a concurrent save made this number first
        return versions.first()  # type: ignore[return-value]


def needs_acceptance(user: Any, group: SupportGroup) -> GuidelinesVersion | None:
    """The version `user` must accept before entering `group`'s room, or None
    when they have accepted the current one. Everyone is asked, facilitators
    too (their acceptance records that they read the final text)."""
    version = record_guidelines(group)
    if user is None or not user.is_authenticated:
        return version
    accepted = GuidelinesAcceptance.objects.filter(user=user, version=version).exists()
    return None if accepted else version


def accept_guidelines(
    *, user: Any, group: SupportGroup, version_number: int
) -> GuidelinesAcceptance:
    """Record that a member accepted `version_number`, which must be the
    current version (a newer one appeared meanwhile: ValidationError)."""
    group_access.require_member(group, user)
    version = record_guidelines(group)
    if version.number != version_number:
        raise ValidationError(
            "The guidelines changed while you were reading. Please read the "
            "current version."
        )
    acceptance, created = GuidelinesAcceptance.objects.get_or_create(
        user=user, version=version
    )
    if created:
        audit(
            user,
            "guidelines.accept",
            target=version,
            group=group,
            reason=f"v{version.number}",
        )
    return acceptance
