from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _prompts_urls(settings: object) -> None:
    settings.ROOT_URLCONF = "tests.prompts.urls"  # type: ignore[attr-defined]


@pytest.fixture
def curator(db: None):  # type: ignore[no-untyped-def]
    """Staff with the curator permission (not a superuser)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="curate_prompt"))
    return user


@pytest.fixture
def site_facilitator(db: None):  # type: ignore[no-untyped-def]
    """May create groups but facilitates none yet."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="create_group"))
    return user
