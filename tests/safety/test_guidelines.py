from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from safety.models import GuidelinesVersion
from safety.services import accept_guidelines, needs_acceptance
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_versions_follow_guideline_edits(group) -> None:  # type: ignore[no-untyped-def]
    assert GuidelinesVersion.objects.filter(group=group).count() == 1
    group.name = "Renamed"
    group.save()
    assert GuidelinesVersion.objects.filter(group=group).count() == 1
    group.guidelines = "Be kind. Pass any time."
    group.save()
    latest = GuidelinesVersion.objects.filter(group=group).first()
    assert latest is not None and latest.number == 2 and latest.text == group.guidelines


@pytest.fixture
def newcomer(group):  # type: ignore[no-untyped-def]
    """A member who has not accepted the guidelines yet."""
    return MembershipFactory(group=group, accepted_guidelines=False).user


def test_accepting_and_a_new_version_asks_again(group, newcomer) -> None:  # type: ignore[no-untyped-def]
    member = newcomer
    version = needs_acceptance(member, group)
    assert version is not None and version.number == 1
    accept_guidelines(user=member, group=group, version_number=1)
    assert needs_acceptance(member, group) is None
    group.guidelines = "New rules."
    group.save()
    assert needs_acceptance(member, group).number == 2  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        accept_guidelines(user=member, group=group, version_number=1)


def test_groups_without_versions_get_one_lazily(group, member) -> None:  # type: ignore[no-untyped-def]
    GuidelinesVersion.objects.all().delete()
    assert needs_acceptance(member, group).number == 1  # type: ignore[union-attr]


def test_accept_page_flow(group, newcomer) -> None:  # type: ignore[no-untyped-def]
    member = newcomer
    client = Client()
    client.force_login(member)
    url = f"/groups/{group.slug}/guidelines/accept/"
    page = client.get(url + "?next=/sessions/1/").content.decode()
    assert group.guidelines in page and "I accept" in page
    response = client.post(url, {"version": 1, "next": "/sessions/1/"})
    assert response.status_code == 302 and response["Location"] == "/sessions/1/"
    assert needs_acceptance(member, group) is None
    evil = client.post(url, {"version": 1, "next": "https://evil.example/"})
    assert evil["Location"] == group.get_absolute_url()
