"""Pseudonymous accounts (catalogue P-01, P-02, I-05, I-13)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.validators import clean_display_name, validate_display_name

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("me@example.org", "email"),
        ("call 0151 2345 6789", "phone"),
        ("123456", "phone"),
        ("https://evil.example", "url"),
        ("www.mysite", "url"),
        ("visit myblog.com", "url"),
        ("Facilitator", "reserved"),
        ("F4cilitator Jo", "reserved"),
        ("The Moderator", "reserved"),
        ("988 Lifeline", "reserved"),
        ("Samaritans", "reserved"),
        ("Hearth Team", "reserved"),
        ("\u0410dmin", "reserved"),  # Cyrillic A
        ("x", "too_short"),
        ("y" * 41, "too_long"),
        ('" onmouseover="x', "characters"),
        ("<script>", "characters"),
    ],
)
def test_unsafe_display_names_are_refused_with_a_reason(name: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_display_name(name)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "name",
    ["Quiet Fern", "River", "Ana-Lucía", "O'Brien", "Kit 2", "Zoë Marsh", "李雷"],
)
def test_ordinary_pseudonyms_are_accepted(name: str) -> None:
    validate_display_name(name)


def test_invisible_and_bidi_characters_are_removed() -> None:
    assert clean_display_name("Ri\u200bver\u202e  Fern\ufeff") == "River Fern"


def test_signup_asks_only_for_email_password_pseudonym_and_zone(client: Client) -> None:
    html = client.get("/accounts/signup/").content.decode()
    form = html[html.index("<form") : html.rindex("</form>")]
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([a-z_0-9]+)"', form))
    names -= {"csrfmiddlewaretoken", "next"}
    assert names == {"email", "password1", "password2", "display_name", "timezone"}


def test_signup_stores_the_pseudonym_and_sends_a_verification_code(
    client: Client,
) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.person@example.org",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "display_name": "Steady Heron",
            "timezone": "Asia/Kolkata",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert (user.display_name, user.timezone) == ("Steady Heron", "Asia/Kolkata")
    assert len(mail.outbox) == 1
    assert re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mail.outbox[0].body)
    assert mail.outbox[0].body.startswith("Hello from Hearth")


def test_signup_with_an_email_as_name_is_refused_and_offers_a_pseudonym(
    client: Client,
) -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "email": "someone@example.org",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "display_name": "someone@example.org",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "pseudonym is safer" in html
    assert "How about" in html
    assert not User.objects.filter(email="someone@example.org").exists()


def test_profile_update_and_validation(stranger) -> None:
    client = Client()
    client.force_login(stranger)
    bad = client.post(
        "/me/profile/",
        {"display_name": "Moderator", "timezone": "Mars/Olympus", "country": "ZZ"},
    )
    assert bad.status_code == 200
    stranger.refresh_from_db()
    assert stranger.display_name != "Moderator"
    good = client.post(
        "/me/profile/",
        {
            "display_name": "Bright Cedar",
            "timezone": "Australia/Lord_Howe",
            "country": "AU",
            "email_reminders": "on",
        },
    )
    assert good.status_code == 302
    stranger.refresh_from_db()
    assert stranger.timezone == "Australia/Lord_Howe"
    assert stranger.country == "AU"
    assert stranger.email_reminders and not stranger.email_reflections


def test_display_names_are_escaped_in_pages(group) -> None:
    from tests.factories import MembershipFactory

    member = MembershipFactory(group=group).user
    User.objects.filter(pk=member.pk).update(display_name='"><script>alert(1)</script>')
    client = Client()
    client.force_login(member)
    html = client.get(f"/groups/{group.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
