"""Receivers: guidelines versions follow group edits; word-rule changes
invalidate every process's compiled filters."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from groups.models import SupportGroup

from . import filters
from .models import WordAllow, WordRule


@receiver(post_save, sender=SupportGroup)
def group_saved(
    sender: Any, instance: SupportGroup, raw: bool = False, **kwargs: Any
) -> None:
    if raw:  # loading fixtures
        return
    from .services.guidelines import record_guidelines

    record_guidelines(instance)


@receiver(post_save, sender=WordRule)
@receiver(post_delete, sender=WordRule)
@receiver(post_save, sender=WordAllow)
@receiver(post_delete, sender=WordAllow)
def word_rules_changed(sender: Any, **kwargs: Any) -> None:
    filters.invalidate()
