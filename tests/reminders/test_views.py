"""Unsubscribing (RFC 8058), email choices, the development outbox, who may
reach each page; and static checks on scheduling (S-10, S-11)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.mail import OutboxBackend
from reminders.models import Delivery, Family, GroupOptOut, Kind, MemberPreferences
from reminders.services import deliver
from reminders.services.sweep import run_sweep
from reminders.unsubscribe import make_token
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _client(user: Any = None, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def test_one_click_unsubscribe_without_a_session_or_csrf(
    group: Any, member: Any
) -> None:
    token = make_token(user_id=member.pk, family=Family.REMINDERS, group_id=group.pk)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/unsubscribe/{token}/")
    assert page.status_code == 200 and group.name.encode() in page.content
    assert not GroupOptOut.objects.exists()  # a GET changes nothing
    response = client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert GroupOptOut.objects.filter(
        user=member, group=group, family=Family.REMINDERS
    ).exists()
    client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert GroupOptOut.objects.count() == 1
    MeetingFactory(group=group, starts_at=timezone.now() + dt.timedelta(minutes=30))
    run_sweep()
    assert not Delivery.objects.filter(user=member).exists()


def test_unsubscribe_everywhere_switches_the_account_off(
    group: Any, member: Any
) -> None:
    token = make_token(user_id=member.pk, family=Family.REFLECTIONS, group_id=group.pk)
    Client().post(f"/unsubscribe/{token}/", {"everywhere": "1"})
    member.refresh_from_db()
    assert member.email_reflections is False and member.email_reminders is True


def test_a_tampered_token_changes_nothing(member: Any) -> None:
    other = make_token(user_id=member.pk + 1, family=Family.REMINDERS, group_id=None)
    mine = make_token(user_id=member.pk, family=Family.REMINDERS, group_id=None)
    # Someone else's payload under this member's signature.
    forged = other.split(":", 1)[0] + ":" + mine.split(":", 1)[1]
    assert forged not in (other, mine)
    for path in (f"/unsubscribe/{forged}/", "/unsubscribe/nonsense/"):
        assert Client().post(path).status_code == 404
    member.refresh_from_db()
    assert member.email_reminders is True


def test_a_link_from_a_real_email_works(group: Any, member: Any) -> None:
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    run_sweep()
    (message,) = mail.outbox
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = url.removeprefix(django_settings.SITE_URL)
    assert Client().post(path).status_code == 200
    assert GroupOptOut.objects.filter(user=member, group=meeting.group).exists()


def test_email_choices_page_saves_quiet_hours_and_opt_outs(
    group: Any, member: Any
) -> None:
    client = _client(member)
    assert client.get("/me/emails/").status_code == 200
    response = client.post(
        "/me/emails/",
        {
            "email_reminders": "on",
            "email_group_updates": "on",
            "opt_outs": [f"reflections:{group.pk}"],
            "quiet_start": "22:00",
            "quiet_end": "07:30",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email_reflections is False
    prefs = MemberPreferences.objects.get(user=member)
    assert (prefs.quiet_start, prefs.quiet_end) == (dt.time(22), dt.time(7, 30))
    assert GroupOptOut.objects.get(user=member).family == Family.REFLECTIONS
    half = client.post("/me/emails/", {"quiet_start": "22:00"})
    assert half.status_code == 200 and b"both a start and an end" in half.content


def test_opt_outs_only_for_my_own_groups(member: Any) -> None:
    elsewhere = MeetingFactory().group
    _client(member).post("/me/emails/", {"opt_outs": [f"reminders:{elsewhere.pk}"]})
    assert not GroupOptOut.objects.exists()


@pytest.fixture
def outbox_dir(settings: Any, tmp_path: Path, group: Any, member: Any) -> Path:
    directory = tmp_path / "outbox"
    settings.MAILERS = {
        "default": {
            "BACKEND": "accounts.mail.OutboxBackend",
            "OPTIONS": {"directory": str(directory)},
        }
    }
    settings.OUTBOX_DIR = directory
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    delivery = Delivery.objects.create(
        meeting=meeting,
        user=member,
        kind=Kind.REMINDER,
        offset_minutes=60,
        due_at=timezone.now(),
        send_after=timezone.now(),
    )
    deliver.send(delivery_id=delivery.pk)
    assert isinstance(mail.mailers.default, OutboxBackend)
    return directory


def test_dev_outbox_lists_text_html_and_attachments(
    outbox_dir: Path, settings: Any, staff: Any
) -> None:
    settings.DEBUG = True
    (name,) = [p.name for p in outbox_dir.glob("*.eml")]
    client = _client(staff)
    listing = client.get("/dev/outbox/")
    assert listing.status_code == 200 and name.encode() in listing.content
    detail = client.get(f"/dev/outbox/?email={name}").content.decode()
    assert "Coming up:" in detail and "invite.ics" in detail
    assert "method=REQUEST" in detail and "List-Unsubscribe" in detail
    html = client.get(f"/dev/outbox/{name}/html/")
    assert html["Content-Security-Policy"].startswith("sandbox")
    ics = client.get(f"/dev/outbox/{name}/attachments/0/")
    assert ics.content.startswith(b"BEGIN:VCALENDAR")
    assert client.get("/dev/outbox/../secrets.eml/html/").status_code == 404


def test_dev_outbox_is_404_without_debug(
    outbox_dir: Path, settings: Any, staff: Any
) -> None:
    settings.DEBUG = False
    (name,) = [p.name for p in outbox_dir.glob("*.eml")]
    for path in (
        "/dev/outbox/",
        f"/dev/outbox/{name}/html/",
        f"/dev/outbox/{name}/attachments/0/",
    ):
        assert _client(staff).get(path).status_code == 404


ROLES = ("anonymous", "stranger", "member", "cofacilitator", "facilitator", "staff")


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(
    role: str,
    group: Any,
    member: Any,
    cofacilitator: Any,
    facilitator: Any,
    stranger: Any,
    staff: Any,
    settings: Any,
) -> None:
    settings.DEBUG = True
    people = {
        "anonymous": None,
        "stranger": stranger,
        "member": member,
        "cofacilitator": cofacilitator,
        "facilitator": facilitator,
        "staff": staff,
    }
    client = _client(people[role])
    token = make_token(user_id=member.pk, family=Family.REMINDERS, group_id=group.pk)
    expected = {
        "/me/emails/": 302 if role == "anonymous" else 200,
        f"/unsubscribe/{token}/": 200,  # the signed link is the permission
        "/dev/outbox/": 200,  # development only (404 without DEBUG, above)
    }
    got = {path: client.get(path).status_code for path in expected}
    assert got == expected


def test_every_reminders_and_journal_url_is_covered() -> None:
    from django.urls import get_resolver

    names = set()
    for pattern in get_resolver().url_patterns:
        namespace = getattr(pattern, "namespace", None)
        if namespace in ("reminders", "journal"):
            names |= {f"{namespace}:{p.name}" for p in pattern.url_patterns}
    assert names == {
        "reminders:unsubscribe",
        "reminders:preferences",
        "reminders:outbox",
        "reminders:outbox_html",
        "reminders:outbox_attachment",
        "journal:index",
        "journal:reflect",
        "journal:detail",
        "journal:sharing",
        "journal:delete",
        "journal:shared",
    }


# --- Static checks -------------------------------------------------------------
def test_no_far_future_eta_or_countdown() -> None:
    """S-10: scheduling goes through the delivery table and the sweep."""
    offenders = []
    for path in [*ROOT.glob("reminders/**/*.py"), *ROOT.glob("journal/**/*.py")]:
        text = path.read_text()
        if re.search(r"\beta\s*=", text):
            offenders.append(f"{path}: eta=")
        for match in re.finditer(r"countdown\s*=\s*(\d+)", text):
            if int(match.group(1)) > 300:
                offenders.append(f"{path}: countdown={match.group(1)}")
    assert not offenders
    assert deliver.BACKOFF_CAP_SECONDS <= 300
    assert all(deliver.backoff(n) <= 300 for n in range(1, 20))


def test_beat_runs_interval_schedules_in_utc() -> None:
    """S-11."""
    assert django_settings.CELERY_TIMEZONE == "UTC"
    assert django_settings.CELERY_ENABLE_UTC is True
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    assert schedule["reminders-sweep"]["schedule"] == 60.0
    for entry in schedule.values():
        assert isinstance(entry["schedule"], int | float | dt.timedelta), entry
