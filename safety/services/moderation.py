"""Held messages, reports, mutes and the strike ladder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from groups.models import FACILITATING_ROLES, Meeting, Membership, SupportGroup
from safety import hooks
from safety.models import AuditLog, HeldMessage, Mute, Report
from safety.models.moderation import severity_of

from .access import can_moderate, require_moderator
from .audit import audit

STRIKES = 3
STRIKE_WINDOW = dt.timedelta(hours=6)
STRIKE_MUTE = dt.timedelta(hours=24)
NEW_ACCOUNT = dt.timedelta(hours=24)
NEW_ACCOUNT_WEIGHT = 0.25
MAX_MUTE = dt.timedelta(days=30)


def _hide_score() -> float:
    return float(getattr(settings, "HEARTH_REPORT_HIDE_SCORE", 3.0))


def _reasons(reasons: Iterable[Any]) -> list[str]:
    return [str(r)[:64] for r in reasons][:20]


# --- Held messages ------------------------------------------------------


def hold_message(
    *,
    group: SupportGroup,
    author: Any,
    text: str,
    tier: str = "none",
    reasons: Iterable[str] = (),
    filter_rule_ids: Iterable[int] = (),
    meeting: Meeting | None = None,
    client_msg_id: str = "",
    source: str = "chat",
) -> HeldMessage:
    """Keep a message out of the room until a facilitator decides. The text
    is stored only here; the audit row has the reasons, never the text."""
    reason_list = _reasons(reasons)
    held = HeldMessage.objects.create(
        group=group,
        meeting=meeting,
        author=author,
        text=text,
        client_msg_id=client_msg_id[:64],
        source=source,
        tier=tier,
        reasons=reason_list,
        filter_rule_ids=[int(i) for i in filter_rule_ids],
        severity=severity_of(tier, reason_list) if tier != "none" else 15,
    )
    audit(
        None,
        "message.hold",
        target=held,
        group=group,
        reason=f"{tier}: {','.join(reason_list)}",
    )
    return held


@dataclass(frozen=True)
class HeldDecision:
    held: HeldMessage
    approved: bool
    # The text to publish when approved (it is gone from the store now).
    text: str | None


@transaction.atomic
def decide_held(
    *, held_id: int, by: Any, approve: bool, reason: str = ""
) -> HeldDecision:
    """Approve (show to the room) or reject a held message. Facilitators of
    its group and staff only (404 for anyone else); never one's own message.
    The stored text is cleared either way; approval hands it back, and
    `hooks.held_message_decided` tells the room to publish it."""
    held = HeldMessage.objects.select_for_update().filter(pk=held_id).first()
    if held is None:
        raise ValidationError("No such held message.")
    require_moderator(by, held.group_id)
    if held.author_id == by.pk and not by.is_staff:
        raise PermissionDenied("Another facilitator needs to review your message.")
    if not held.is_pending:
        raise ValidationError("This message has already been reviewed.")
    text = held.text
    held.status = (
        HeldMessage.Status.APPROVED if approve else HeldMessage.Status.REJECTED
    )
    held.decided_by = by
    held.decided_at = timezone.now()
    held.text = ""
    held.save(update_fields=["status", "decided_by", "decided_at", "text"])
    audit(
        by,
        "held.approve" if approve else "held.reject",
        target=held,
        group=held.group_id,
        reason=reason,
    )
    shown = text if approve else None
    hooks.held_message_decided.send(
        sender=HeldMessage, held=held, approved=approve, text=shown, by=by
    )
    return HeldDecision(held, approve, shown)


# --- Reports ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportOutcome:
    report: Report
    created: bool
    # The weighted count of distinct reporters with open reports on the
    # event; `should_hide` once it reaches HEARTH_REPORT_HIDE_SCORE (3).
    score: float
    should_hide: bool


def _weight(user: Any) -> float:
    joined = getattr(user, "date_joined", None)
    if joined and timezone.now() - joined < NEW_ACCOUNT:
        return NEW_ACCOUNT_WEIGHT
    return 1.0


def report_message(
    *,
    reporter: Any,
    group: SupportGroup,
    event_id: int,
    reason: str,
    author: Any = None,
    meeting: Meeting | None = None,
    note: str = "",
) -> ReportOutcome:
    """A member reports a room message. The author is never told who
    reported (nothing in the room or the queue names reporters to anyone
    but staff). A second report of the same event by the same person
    changes nothing. Accounts younger than a day count a quarter towards
    auto-hiding."""
    if reporter is None or not reporter.is_authenticated:
        raise PermissionDenied("Log in to report a message.")
    if not Membership.objects.filter(group=group, user=reporter).exists():
        raise PermissionDenied("Only members of this group can report.")
    if reason not in Report.Reason.values:
        raise ValidationError("Choose a reason for the report.")
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError("Keep the note under 500 characters.")
    author_id = getattr(author, "pk", author)
    if author_id is not None and author_id == reporter.pk:
        raise ValidationError("You can't report your own message.")
    created = True
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter=reporter,
                group=group,
                meeting=meeting,
                event_id=int(event_id),
                author_id=author_id,
                reason=reason,
                note=note,
                weight=_weight(reporter),
            )
            audit(reporter, "report.create", target=report, group=group, reason=reason)
    except IntegrityError:
        created = False
        report = Report.objects.get(reporter=reporter, event_id=int(event_id))
    score = float(
        Report.objects.filter(
            group=group, event_id=int(event_id), status=Report.Status.OPEN
        ).aggregate(total=Sum("weight"))["total"]
        or 0.0
    )
    outcome = ReportOutcome(report, created, score, score >= _hide_score())
    if created:
        hooks.report_filed.send(
            sender=Report, report=report, score=score, should_hide=outcome.should_hide
        )
    return outcome


@transaction.atomic
def resolve_report(*, report_id: int, by: Any, outcome: str) -> list[Report]:
    """Resolve a report, and every other open report of the same message,
    with one outcome that each reporter then sees on "My reports".
    Facilitators of the group and staff only (404 otherwise)."""
    report = Report.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ValidationError("No such report.")
    require_moderator(by, report.group_id)
    if outcome not in Report.Outcome.values:
        raise ValidationError("Choose what happened.")
    if report.status != Report.Status.OPEN:
        raise ValidationError("This report has already been reviewed.")
    now = timezone.now()
    reports = list(
        Report.objects.select_for_update().filter(
            group_id=report.group_id,
            event_id=report.event_id,
            status=Report.Status.OPEN,
        )
    )
    for item in reports:
        item.status = Report.Status.RESOLVED
        item.outcome = outcome
        item.resolved_by = by
        item.resolved_at = now
        item.save(update_fields=["status", "outcome", "resolved_by", "resolved_at"])
        audit(by, "report.resolve", target=item, group=report.group_id, reason=outcome)
    hooks.report_resolved.send(sender=Report, reports=reports, outcome=outcome, by=by)
    return reports


# --- Mutes -------------------------------------------------------------------


def active_mute(group: SupportGroup | int, user: Any) -> Mute | None:
    """The mute in force for `user` in `group` (the longest), or None."""
    user_id = getattr(user, "pk", user)
    group_id = getattr(group, "pk", group)
    if user_id is None:
        return None
    return (
        Mute.objects.in_force()
        .filter(group_id=group_id, user_id=user_id)
        .order_by("-until")
        .first()
    )


@transaction.atomic
def mute_member(
    *,
    group: SupportGroup,
    user: Any,
    by: Any,
    minutes: int | None = None,
    until: dt.datetime | None = None,
    reason: str = "",
) -> Mute:
    """Mute a member of `group` for `minutes` or until `until` (e.g. the end
    of the session). `by` is a facilitator, staff, or None for the system.
    Facilitators cannot be muted. A longer mute already in force stays."""
    if by is not None and not can_moderate(by, group):
        raise PermissionDenied("Only this group's facilitators can mute.")
    target = Membership.objects.filter(group=group, user=user).first()
    if target is None:
        raise ValidationError("That person is not in this group.")
    if target.role in FACILITATING_ROLES:
        raise ValidationError("Facilitators can't be muted.")
    now = timezone.now()
    if (minutes is None) == (until is None):
        raise ValidationError("Give either minutes or an end time.")
    if minutes is not None:
        if not 1 <= int(minutes) <= MAX_MUTE.total_seconds() // 60:
            raise ValidationError("Mute for between a minute and 30 days.")
        until = now + dt.timedelta(minutes=int(minutes))
    assert until is not None
    if until <= now or until - now > MAX_MUTE:
        raise ValidationError("Mute until a time within the next 30 days.")
    current = active_mute(group, user)
    if current is not None and current.until >= until:
        return current
    mute = Mute.objects.create(
        group=group, user=target.user, until=until, by=by, reason=reason[:200]
    )
    audit(by, "member.mute", target=mute, group=group, reason=reason)
    hooks.member_muted.send(sender=Mute, mute=mute)
    return mute


@transaction.atomic
def unmute_member(*, group: SupportGroup, user: Any, by: Any) -> int:
    """Lift every mute in force for `user` in `group`."""
    if not can_moderate(by, group):
        raise PermissionDenied("Only this group's facilitators can unmute.")
    mutes = list(
        Mute.objects.in_force().filter(group=group, user=user).select_for_update()
    )
    now = timezone.now()
    for mute in mutes:
        mute.lifted_at, mute.lifted_by = now, by
        mute.save(update_fields=["lifted_at", "lifted_by"])
        audit(by, "member.unmute", target=mute, group=group)
    if mutes:
        hooks.member_unmuted.send(sender=Mute, group=group, user=user, by=by)
    return len(mutes)


def record_blocked_message(
    *,
    group: SupportGroup,
    author: Any,
    rule_ids: Iterable[int] = (),
) -> Mute | None:
    """Log a blocked message (a strike) and apply the ladder: the third
    block within six hours mutes the author for 24 hours in that group.
    Returns the new mute, if this strike caused one."""
    audit(
        None,
        "message.block",
        target=("user", author.pk),
        group=group,
        reason="rules " + ",".join(str(i) for i in rule_ids),
    )
    since = timezone.now() - STRIKE_WINDOW
    strikes = AuditLog.objects.filter(
        action="message.block",
        target_type="user",
        target_id=str(author.pk),
        group_id=group.pk,
        created_at__gte=since,
    ).count()
    if strikes < STRIKES or active_mute(group, author) is not None:
        return None
    membership = Membership.objects.filter(group=group, user=author).first()
    if membership is None or membership.role in FACILITATING_ROLES:
        return None
    return mute_member(
        group=group,
        user=author,
        by=None,
        until=timezone.now() + STRIKE_MUTE,
        reason="strike ladder: 3 blocked messages in 6 hours",
    )
