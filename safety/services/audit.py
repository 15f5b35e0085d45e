"""One way to write the audit log."""

from __future__ import annotations

import logging
from typing import Any

from django.db import models

from safety.models import AuditLog

log = logging.getLogger("safety.audit")


def _target(target: Any) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.model_name or "record", str(target.pk or "")
    if isinstance(target, tuple) and len(target) == 2:
        return str(target[0])[:40], str(target[1])[:40]
    raise TypeError("target is a model instance or a (type, id) pair")


def audit(
    actor: Any,
    action: str,
    *,
    target: Any,
    group: Any,
    reason: str = "",
) -> AuditLog:
    """Append one row to the audit log and a structured log line.

    `actor` is a user or None (the system); `target` a model instance or a
    ("type", id) pair; `group` a SupportGroup, its id or None. `reason` is a
    short code or note, never message, reflection or report text.
    """
    target_type, target_id = _target(target)
    group_id = getattr(group, "pk", group)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    row = AuditLog.objects.create(
        actor_id=actor_id,
        action=action[:64],
        target_type=target_type,
        target_id=target_id,
        group_id=group_id,
        reason=" ".join(str(reason).split())[:300],
    )
    log.info(
        "audit action=%s actor=%s target=%s:%s group=%s",
        row.action,
        actor_id,
        target_type,
        target_id,
        group_id,
    )
    return row
