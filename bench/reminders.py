"""Benchmark: 10,000 members across 500 sessions swept, recorded and sent.

Runs against a throwaway test database (SQLite by default, PostgreSQL when
DATABASE_URL says so), tasks inline and Django's in-memory mail backend,
and prints the time and the number of queries of each phase.

    make bench-reminders            # or: python bench/reminders.py --members 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class QueryCount:
    """Counts queries without keeping them (Django's capture stops at 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return self.count


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.utils import timezone

    from config.celery import app

    setup_test_environment()  # the in-memory mail backend
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    app.conf.task_always_eager = True
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        from django.contrib.auth.hashers import make_password

        from accounts.models import User
        from groups.models import Meeting, Membership, SupportGroup
        from reminders.models import Delivery, GroupReminderOptions, State
        from reminders.services.sweep import dispatch_due, enqueue, run_sweep

        per = max(1, args.members // args.sessions)
        start_at = timezone.now() + dt.timedelta(minutes=30)
        password = make_password(None)
        groups = SupportGroup.objects.bulk_create(
            SupportGroup(
                name=f"Bench {i}",
                slug=f"bench-{i}",
                description="-",
                guidelines="-",
                timezone="Europe/Berlin",
                capacity=max(2, per),
            )
            for i in range(args.sessions)
        )
        GroupReminderOptions.objects.bulk_create(
            GroupReminderOptions(group=g, offsets_minutes=[60]) for g in groups
        )
        zones = [
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
        ]
        users = User.objects.bulk_create(
            (
                User(
                    email=f"bench{i}@example.org",
                    display_name=f"Member {i}",
                    timezone=zones[i % len(zones)],
                    password=password,
                )
                for i in range(per * args.sessions)
            ),
            batch_size=1000,
        )
        Membership.objects.bulk_create(
            (Membership(group=groups[i // per], user=u) for i, u in enumerate(users)),
            batch_size=1000,
        )
        for group in groups:
            Meeting(
                group=group,
                title="Evening circle",
                starts_at=start_at,
                timezone=group.timezone,
            ).save()
        say(
            f"setup: {len(users)} members, {len(groups)} sessions, "
            f"database {connection.vendor}"
        )

        results = []
        with connection.execute_wrapper(queries := QueryCount()):
            began = time.perf_counter()
            run_sweep(send=False)
            results.append(
                ("sweep + record", time.perf_counter() - began, len(queries))
            )
        recorded = Delivery.objects.count()
        with connection.execute_wrapper(queries := QueryCount()):
            began = time.perf_counter()
            # The sweep hands out at most DISPATCH_LIMIT ids per pass.
            while ids := dispatch_due(timezone.now()):
                enqueue(ids)
            results.append(
                ("dispatch + send", time.perf_counter() - began, len(queries))
            )
        sent = Delivery.objects.filter(state=State.SENT).count()
        with connection.execute_wrapper(queries := QueryCount()):
            began = time.perf_counter()
            run_sweep()
            results.append(
                ("second sweep (no-op)", time.perf_counter() - began, len(queries))
            )
        for name, seconds, count in results:
            say(f"{name:22s} {seconds:8.2f} s {count:9d} queries")
        total = results[0][1] + results[1][1]
        say(
            f"recorded {recorded}, sent {sent}, emails {len(mail.outbox)}; "
            f"{sent / total:.0f} emails/s, "
            f"{(results[0][2] + results[1][2]) / max(sent, 1):.1f} queries per email"
        )
        ok = recorded == sent == len(mail.outbox) == len(users)
        say("OK" if ok else "MISMATCH")
        return 0 if ok else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    raise SystemExit(main())
