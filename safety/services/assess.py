"""The one call the room makes for each message or reflection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from groups.models import Meeting, SupportGroup
from safety.filters import ALLOW, FilterResult, check_words
from safety.models import GroupSafetyPolicy, HeldMessage, Mute, SafetyAlert
from safety.notices import render_notice
from safety.screening import Result, Tier, screen

from .alerts import alert_facilitators, is_watched, record_screening
from .audit import audit
from .care import CrisisCard, country_code, crisis_card
from .delivery import emails_due
from .moderation import hold_message, record_blocked_message

log = logging.getLogger(__name__)

Action = Literal["deliver", "deliver_with_note", "hold", "block"]
ALWAYS_HELD: tuple[str, ...] = ("method", "imminent")
SCREENING_ERROR = ("screening.error",)


@dataclass(frozen=True)
class Assessment:
    """What to do with one message, and what was already recorded."""

    action: Action
    tier: Tier
    reasons: tuple[str, ...]  # screening rule ids
    filter: FilterResult
    # Send privately to the sender in the same round-trip (tier != none).
    card: CrisisCard | None
    # A line for the sender: why it was blocked or held ("" when delivered).
    notice: str
    held: HeldMessage | None
    alert: SafetyAlert | None
    # A mute this very message triggered (the strike ladder), if any.
    muted: Mute | None
    # The screener was unsure (tier none): offer the sender alone the gentle
    # check-in. No alert until they ask (docs/safety.md, "Asking for help").
    checkin: bool = False
    # With `defer_emails`: the alert whose emails the caller dispatches once
    # its reply has left (safety.services.dispatch_alert_emails).
    email_alert_id: int | None = None

    @property
    def delivered(self) -> bool:
        return self.action in ("deliver", "deliver_with_note")


def concern_action(group: SupportGroup) -> str:
    policy = GroupSafetyPolicy.objects.filter(group=group).first()
    return policy.concern_action if policy else GroupSafetyPolicy.ConcernAction.DELIVER


def _screen(text: str, *, group: SupportGroup, author: Any) -> Result:
    try:
        return screen(text)
    except Exception:
        # Never let a screener bug silence the safety path: treat it as a
        # concern (resources to the sender, a facilitator looks).
        log.exception("screening failed group=%s user=%s", group.pk, author.pk)
        return Result("concern", SCREENING_ERROR)


def _filter(text: str, language: str, group: SupportGroup) -> FilterResult:
    try:
        return check_words(text, language=language)
    except Exception:
        log.exception("word filter failed group=%s", group.pk)
        return ALLOW


def assess_message(
    *,
    group: SupportGroup,
    author: Any,
    text: str,
    facilitators_connected: bool | Callable[[], bool],
    meeting: Meeting | None = None,
    country: str | None = None,
    language: str = "en",
    client_msg_id: str = "",
    source: Literal["chat", "reflection", "thread"] = "chat",
    defer_emails: bool = False,
) -> Assessment:
    """Screen and filter one message before it is stored or broadcast, and
    record what safety needs (held message, alert, strikes, audit).

    Call it inside the transaction that appends the room event, and store
    and broadcast the message only when `.delivered` (with a content note
    for "deliver_with_note"). Send `.card` (if any) and `.notice` (if any)
    to the sender alone. Nothing here needs Celery or the channel layer.

    Policy (docs/safety.md, "Tiers"): method and imminent are held; concern and third
    party follow the group's policy (deliver by default); a word-filter
    block stops the message and counts a strike (three in six hours: a
    24-hour mute), except that crisis messages are held instead so a
    facilitator sees them; hold holds; flag delivers and alerts. A
    reflection (`source="reflection"`) is never held or filtered: its
    author gets the card, and only method and imminent tiers alert.
    A line of a private thread in the room (`source="thread"`) follows
    chat's rules, except that a held one is stored nowhere: the room does
    not pass it on and nobody reviews its text (docs/safety.md).
    `country` defaults to the author's, then the group's region.
    `facilitators_connected` may be a callable: it is asked only when an
    alert is raised, so an ordinary message does not pay for the look-up.
    With `defer_emails`, at-once alert emails are queued but not dispatched:
    the caller dispatches `.email_alert_id` after replying (docs/safety.md).
    """
    result = _screen(text, group=group, author=author)
    tier = result.tier
    reflection = source == "reflection"
    verdict = ALLOW if reflection else _filter(text, language, group)
    record_screening(
        group=group, subject=author, result=result, meeting=meeting, source=source
    )

    action: Action = "deliver"
    if not reflection:
        if tier in ALWAYS_HELD:
            action = "hold"
        elif tier in ("concern", "third_party"):
            policy = concern_action(group)
            if policy == GroupSafetyPolicy.ConcernAction.HOLD:
                action = "hold"
            elif policy == GroupSafetyPolicy.ConcernAction.NOTE:
                action = "deliver_with_note"
        if result.reasons == SCREENING_ERROR:
            action = "hold"  # unscreened text waits for a person
        if verdict.action == "block":
            action = "hold" if tier in ALWAYS_HELD else "block"
        elif verdict.action == "hold":
            action = "hold"

    held = None
    if action == "hold" and source != "thread":
        held = hold_message(
            group=group,
            author=author,
            text=text,
            tier=tier,
            reasons=result.reasons,
            filter_rule_ids=verdict.rule_ids,
            meeting=meeting,
            client_msg_id=client_msg_id,
            source=source,
        )
    muted = None
    if action == "block":
        muted = record_blocked_message(
            group=group, author=author, rule_ids=verdict.rule_ids
        )

    alert = None
    email_alert_id = None
    alert_tier: str = tier if tier != "none" else ""
    if reflection and tier not in ALWAYS_HELD:
        alert_tier = ""
    if not alert_tier and verdict.action == "flag":
        alert_tier = "flag"
    if alert_tier:
        connected = is_watched(facilitators_connected)
        alert = alert_facilitators(
            group=group,
            subject=author,
            tier=alert_tier,
            reasons=result.reasons
            if alert_tier != "flag"
            else [f"word_rule.{i}" for i in verdict.rule_ids],
            facilitators_connected=connected,
            meeting=meeting,
            source=source,
            held=held,
            defer_emails=defer_emails,
        )
        if defer_emails and emails_due(alert_tier, facilitators_connected=connected):
            email_alert_id = alert.pk

    card = None
    if tier != "none":
        place = (
            country_code(country)
            or country_code(getattr(author, "country", ""))
            or country_code(group.region)
        )
        card = crisis_card(place, tier, group=group, held=action == "hold")

    checkin = action in ("deliver", "deliver_with_note") and _offer_checkin(
        result, reflection, group=group, meeting=meeting
    )

    notice = ""
    if action == "block":
        notice = render_notice("blocked", explanation=verdict.explanation_for_sender)
    elif action == "hold" and tier not in ALWAYS_HELD:
        notice = render_notice("held", explanation=verdict.explanation_for_sender)
    if muted is not None:
        notice = f"{notice} {render_notice('muted', until=muted.until)}".strip()
    return Assessment(
        action=action,
        tier=tier,
        reasons=result.reasons,
        filter=verdict,
        card=card,
        notice=notice,
        held=held,
        alert=alert,
        muted=muted,
        checkin=checkin,
        email_alert_id=email_alert_id,
    )


def _offer_checkin(
    result: Result, reflection: bool, *, group: SupportGroup, meeting: Meeting | None
) -> bool:
    """Whether to offer the gentle check-in; counts the offer per session
    (no person: the count is all the summary shows)."""
    if reflection or result.tier != "none" or not result.uncertain:
        return False
    if meeting is not None:
        audit(None, "checkin.offered", target=("meeting", meeting.pk), group=group)
    return True
