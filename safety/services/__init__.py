"""Safety services: the Python interface the room and views call.

See docs/safety.md for the semantics of each; all are keyword-only.
"""

from .access import can_moderate, moderated_groups, require_moderator
from .alerts import (
    acknowledge_alert,
    alert_facilitators,
    bump_alert,
    escalate_unacknowledged,
    record_screening,
    send_alert_emails,
)
from .assess import Assessment, assess_message
from .audit import audit
from .care import (
    CrisisCard,
    crisis_card,
    pin_resource,
    pinned_resources,
    resource_data,
    resources_for,
    unpin_resource,
)
from .delivery import dispatch_alert_emails, retry_alert_emails
from .guidelines import accept_guidelines, needs_acceptance, record_guidelines
from .moderation import (
    HeldDecision,
    ReportOutcome,
    active_mute,
    decide_held,
    hold_message,
    mute_member,
    record_blocked_message,
    report_message,
    resolve_report,
    unmute_member,
)
from .support import ask_for_support, groups_to_tell, say_not_safe

__all__ = [
    "Assessment",
    "CrisisCard",
    "HeldDecision",
    "ReportOutcome",
    "accept_guidelines",
    "acknowledge_alert",
    "active_mute",
    "alert_facilitators",
    "ask_for_support",
    "assess_message",
    "audit",
    "bump_alert",
    "can_moderate",
    "crisis_card",
    "decide_held",
    "dispatch_alert_emails",
    "escalate_unacknowledged",
    "groups_to_tell",
    "hold_message",
    "moderated_groups",
    "mute_member",
    "needs_acceptance",
    "pin_resource",
    "pinned_resources",
    "record_blocked_message",
    "record_guidelines",
    "record_screening",
    "report_message",
    "require_moderator",
    "resolve_report",
    "resource_data",
    "resources_for",
    "retry_alert_emails",
    "say_not_safe",
    "send_alert_emails",
    "unmute_member",
    "unpin_resource",
]
