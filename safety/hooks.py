"""Signals the safety app sends, so the room (facilitation, which sits above
safety) can react without safety importing it.

Every signal is sent inside the transaction that made the change, so a
receiver may write its own rows atomically with it; broadcast from a
receiver with `transaction.on_commit`.

- `held_message_decided(held, approved, text, by)`: `text` is the message
  text when approved (publish it to the room now: this is the last time it
  exists outside the room), else None.
- `report_filed(report, score, should_hide)`: `should_hide` once distinct,
  trusted reporters reach the auto-hide score.
- `report_resolved(reports, outcome, by)`: every open report of one event,
  resolved together; outcome "hidden" means the message should be hidden.
- `member_muted(mute)` and `member_unmuted(group, user, by)`.
- `alert_raised(alert, created)`: push it to facilitators' sockets;
  `created` is False when a repeat only bumped `count`.
- `alert_acknowledged(alert, by)`.

`set_report_text_loader(func)` lets the room show facilitators the text of
a reported message in the moderation queue without safety storing it:
`func(report) -> str | None`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

held_message_decided = Signal()
report_filed = Signal()
report_resolved = Signal()
member_muted = Signal()
member_unmuted = Signal()
alert_raised = Signal()
alert_acknowledged = Signal()

_report_text_loader: list[Callable[[Any], str | None]] = []


def set_report_text_loader(func: Callable[[Any], str | None] | None) -> None:
    _report_text_loader.clear()
    if func is not None:
        _report_text_loader.append(func)


def report_text(report: Any) -> str | None:
    if not _report_text_loader:
        return None
    try:
        return _report_text_loader[0](report)
    except Exception:
        return None
