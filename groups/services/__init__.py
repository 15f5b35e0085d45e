"""The decisions about groups and their schedule. Views and tasks call these."""

from .membership import (
    accept_invitation,
    change_role,
    create_group,
    create_invitation,
    decide_request,
    leave_group,
    remove_member,
    request_to_join,
    revoke_invitation,
    withdraw_request,
)
from .scheduling import (
    cancel_meeting,
    create_series,
    edit_meeting,
    edit_series,
    extend_all_series,
    extend_series,
    respond,
    schedule_meeting,
)

__all__ = [
    "accept_invitation",
    "cancel_meeting",
    "change_role",
    "create_group",
    "create_invitation",
    "create_series",
    "decide_request",
    "edit_meeting",
    "edit_series",
    "extend_all_series",
    "extend_series",
    "leave_group",
    "remove_member",
    "request_to_join",
    "respond",
    "revoke_invitation",
    "schedule_meeting",
    "withdraw_request",
]
