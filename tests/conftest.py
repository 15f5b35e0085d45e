"""Shared fixtures, and the rules for tests that need real services.

Tests marked `postgres`, `redis` or `e2e` run in their own pass (see the
Makefile). Run outside that pass they are skipped with the reason, except
in CI, where a missing service is an error: nothing may skip there.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.blackhole import smtp_blackhole  # noqa: F401 (a fixture for every test)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

# A forked live server can hang after asyncio tests: spawn instead.
multiprocessing.set_start_method("spawn", force=True)

IN_CI = os.environ.get("CI") == "true"


def _missing(marker: str) -> str | None:
    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        return None if "postgresql" in engine else "DATABASE_URL is not PostgreSQL"
    if marker == "redis":
        return None if settings.REDIS_URL else "REDIS_URL is not set"
    if marker == "e2e":
        return None if shutil.which("chromium") else "Debian's chromium is missing"
    return None


@pytest.hookimpl(trylast=True)  # after -m has deselected what won't run
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    for item in items:
        for marker in ("postgres", "redis", "e2e"):
            if item.get_closest_marker(marker) is None:
                continue
            reason = _missing(marker)
            if reason is None:
                continue
            if IN_CI:
                raise pytest.UsageError(
                    f"{item.nodeid} needs {marker} ({reason}); CI never skips it."
                )
            item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))


@pytest.fixture(autouse=True)
def _outbox_in_tmp(settings: object, tmp_path: object) -> None:
    """Every test gets its own email outbox directory."""
    settings.OUTBOX_DIR = tmp_path / "outbox"  # type: ignore[attr-defined,operator]
    # The embedded file cache is shared with a running dev server: tests get
    # their own, empty cache (rate limits must not leak between tests).
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:  # type: ignore[attr-defined]
        settings.CACHES = {  # type: ignore[attr-defined]
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        }
    from django.core.cache import cache

    cache.clear()
    # A fast hasher: password strength is not what these tests are about.
    settings.PASSWORD_HASHERS = [  # type: ignore[attr-defined]
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]


@pytest.fixture(autouse=True)
def _alert_email_threads_finish() -> Iterator[None]:
    """Alert emails can go out from a background thread when the broker is
    down (docs/safety.md). Let any such thread finish (and close its
    database connection) before the test's database goes away."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("alert-email-"):
            thread.join(timeout=10)


@pytest.fixture
def group(db: None) -> SupportGroupFactory:
    return SupportGroupFactory()


@pytest.fixture
def facilitator(group):  # type: ignore[no-untyped-def]
    return MembershipFactory(group=group, role="facilitator").user


@pytest.fixture
def cofacilitator(group):  # type: ignore[no-untyped-def]
    return MembershipFactory(group=group, role="cofacilitator").user


@pytest.fixture
def member(group):  # type: ignore[no-untyped-def]
    return MembershipFactory(group=group, role="member").user


@pytest.fixture
def stranger(db: None):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def staff(db: None):  # type: ignore[no-untyped-def]
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _leaving_at_once(settings: object) -> None:
    """Sockets that close count as leaving at once (no grace period), so
    presence tests see "left" without waiting; the grace has its own test."""
    settings.HEARTH = {**settings.HEARTH, "PRESENCE_GRACE_SECONDS": 0}  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _celery_eager() -> object:
    """Unit tests run tasks inline (after commit); the integration pass uses a
    real worker instead."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
