"""Bench data in the bench database, made the way `manage.py shell` would:
people, groups, memberships, sessions with a plan, and logged-in browser
sessions whose `sessionid` cookies the load client sends.

Run with DJANGO_SETTINGS_MODULE=config.settings and the bench database's
DATABASE_URL:

    python -m bench.hearth_seed rooms --sizes 30,500 --tag s1
    python -m bench.hearth_seed pages --groups 1000 --prompts 10000
    python -m bench.hearth_seed queries --meeting 12

Each prints one JSON object on stdout. Only public-surface facts come out:
session ids, cookies and URLs; the harness never imports product code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _setup() -> None:
    import django

    django.setup()


def _cookies(users: list[Any]) -> list[str]:
    """Logged-in sessions for `users`, written in bulk (one row each)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expires = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    backend = settings.AUTHENTICATION_BACKENDS[0]
    rows, keys = [], []
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(
            Session(
                session_key=key, session_data=store.encode(data), expire_date=expires
            )
        )
        keys.append(key)
    Session.objects.bulk_create(rows, batch_size=2000)
    return keys


def _people(count: int, tag: str) -> list[Any]:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    # One hash for everyone: hashing 10,000 passwords would take minutes.
    password = make_password("bench-password-not-secret")
    users = [
        User(
            email=f"bench-{tag}-{n}@example.org",
            display_name=f"Bench {tag} {n}",
            timezone="UTC",
            password=password,
        )
        for n in range(count)
    ]
    return User.objects.bulk_create(users, batch_size=2000)


def _accept_guidelines(group: Any, users: list[Any]) -> None:
    """Members accept the group's current guidelines before entering its
    room (what the room page asks of them). Bulk rows instead of one
    service call each; nothing is done where the product has no such rule."""
    try:
        from safety.models import GuidelinesAcceptance
        from safety.services.guidelines import record_guidelines
    except ImportError:
        return
    version = record_guidelines(group)
    GuidelinesAcceptance.objects.bulk_create(
        (GuidelinesAcceptance(user=user, version=version) for user in users),
        batch_size=2000,
        ignore_conflicts=True,
    )


def _plan(owner: Any, meeting: Any, tag: str) -> None:
    from django.utils import timezone

    from prompts.models import (
        PlanAssignment,
        PlanItem,
        Prompt,
        PromptVersion,
        SessionPlan,
    )

    plan = SessionPlan.objects.create(title=f"Bench plan {tag}", owner=owner)
    for position in range(2):
        prompt = Prompt.objects.create(slug=f"bench-{tag}-{position}", author=owner)
        version = PromptVersion.objects.create(
            prompt=prompt,
            number=1,
            title=f"Bench prompt {position}",
            text="What would you like to share today? *Passing is welcome.*",
            kind="discussion",
            status=PromptVersion.Status.PUBLISHED,
            published_at=timezone.now(),
            author=owner,
        )
        PlanItem.objects.create(
            plan=plan, version=version, minutes=10, position=position
        )
    PlanAssignment.objects.create(plan=plan, meeting=meeting, assigned_by=owner)


def rooms(sizes: list[int], tag: str) -> dict[str, Any]:
    """One group + session per size; the first person facilitates."""
    from django.db import transaction
    from django.utils import timezone

    from groups.models import Meeting, Membership, Role, SupportGroup

    out = []
    with transaction.atomic():
        people = _people(sum(sizes), tag)
        cookies = _cookies(people)
        start = 0
        for number, size in enumerate(sizes):
            members = people[start : start + size]
            keys = cookies[start : start + size]
            start += size
            group = SupportGroup.objects.create(
                name=f"Bench {tag} {number}",
                slug=f"bench-{tag}-{number}",
                description="Bench group.",
                guidelines="Bench.",
                capacity=500,
                timezone="UTC",
            )
            Membership.objects.bulk_create(
                Membership(
                    group=group,
                    user=user,
                    role=Role.FACILITATOR if i == 0 else Role.MEMBER,
                )
                for i, user in enumerate(members)
            )
            _accept_guidelines(group, members)
            meeting = Meeting.objects.create(
                group=group,
                title=f"Bench session {tag} {number}",
                starts_at=timezone.now() - dt.timedelta(minutes=5),
                duration_minutes=240,
                timezone="UTC",
            )
            _plan(members[0], meeting, f"{tag}-{number}")
            out.append(
                {
                    "meeting_id": meeting.pk,
                    "group_slug": group.slug,
                    "facilitator": keys[0],
                    "members": keys[1:],
                }
            )
    return {"rooms": out}


def pages(groups: int, prompts: int, tag: str) -> dict[str, Any]:
    """A directory of `groups` public groups and a library of `prompts`
    published prompts; returns the URLs and a facilitator's cookie."""
    from django.db import transaction
    from django.utils import timezone

    from groups.models import Meeting, Membership, Role, SupportGroup, Topic
    from prompts.models import Prompt, PromptVersion, Theme

    topics = list(Topic.values)
    with transaction.atomic():
        owner = _people(1, f"pages-{tag}")[0]
        created = SupportGroup.objects.bulk_create(
            SupportGroup(
                name=f"Circle {tag} {n:04d}",
                slug=f"bench-circle-{tag}-{n}",
                description="A bench group that meets weekly.",
                topic=topics[n % len(topics)],
                guidelines="We listen.",
                capacity=12,
                timezone="Europe/Berlin",
            )
            for n in range(groups)
        )
        group = created[0]
        Membership.objects.create(group=group, user=owner, role=Role.FACILITATOR)
        meeting = Meeting.objects.create(
            group=group,
            title="Bench page session",
            starts_at=timezone.now() + dt.timedelta(days=1),
            duration_minutes=60,
            timezone="Europe/Berlin",
        )
        made = Prompt.objects.bulk_create(
            Prompt(slug=f"bench-page-{tag}-{n}", author=owner) for n in range(prompts)
        )
        now = timezone.now()
        versions = PromptVersion.objects.bulk_create(
            (
                PromptVersion(
                    prompt=prompt,
                    number=1,
                    title=f"Bench prompt {n:05d} about asking",
                    text="Would you like to *share*? Passing is welcome.",
                    kind="discussion",
                    status=PromptVersion.Status.PUBLISHED,
                    published_at=now,
                    author=owner,
                )
                for n, prompt in enumerate(made)
            ),
            batch_size=2000,
        )
        themes = list(Theme.objects.all())
        if themes:
            through = PromptVersion.themes.through
            through.objects.bulk_create(
                (
                    through(promptversion_id=v.pk, theme_id=themes[i % len(themes)].pk)
                    for i, v in enumerate(versions)
                ),
                batch_size=5000,
            )
        cookie = _cookies([owner])[0]
    return {
        "cookie": cookie,
        "pages": {
            "directory": "/groups/",
            "session": f"/sessions/{meeting.pk}/",
            "library": "/prompts/",
        },
    }


def queries(cookie: str, urls: dict[str, str]) -> dict[str, Any]:
    """Database queries per page, counted with the test client in-process
    (connection.queries needs DEBUG; CaptureQueriesContext does not)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = cookie
    counts: dict[str, Any] = {}
    for name, url in urls.items():
        client.get(url)  # warm caches the way a running server has them
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts[name] = {"status": response.status_code, "queries": len(captured)}
    return counts


def _analyze() -> None:
    """Planner statistics for what was just written, as a production server
    has them (autovacuum is off on this machine's PostgreSQL, and without
    statistics the planner sorts the whole prompt library per page)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.hearth_seed")
    sub = parser.add_subparsers(dest="command", required=True)
    p_rooms = sub.add_parser("rooms")
    p_rooms.add_argument("--sizes", required=True)
    p_rooms.add_argument("--tag", required=True)
    p_pages = sub.add_parser("pages")
    p_pages.add_argument("--groups", type=int, default=1000)
    p_pages.add_argument("--prompts", type=int, default=10000)
    p_pages.add_argument("--tag", default="pages")
    p_queries = sub.add_parser("queries")
    p_queries.add_argument("--cookie", required=True)
    p_queries.add_argument("--urls", required=True, help="JSON name -> path")
    args = parser.parse_args(argv)
    _setup()
    if args.command == "rooms":
        result = rooms([int(s) for s in args.sizes.split(",")], args.tag)
        _analyze()
    elif args.command == "pages":
        result = pages(args.groups, args.prompts, args.tag)
        _analyze()
    else:
        result = queries(args.cookie, json.loads(args.urls))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
