"""Run the reminder sweep now (what beat runs every minute)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reminders.services.sweep import run_sweep


class Command(BaseCommand):
    help = "Record due reminders and follow-ups, and hand them to the worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=1)
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument(
            "--no-send", action="store_true", help="Record only; do not dispatch."
        )

    def handle(
        self, *args: Any, repeat: int, interval: float, no_send: bool, **options: Any
    ) -> None:
        for round_ in range(repeat):
            report = run_sweep(send=not no_send)
            self.stdout.write(" ".join(f"{k}={v}" for k, v in report.as_dict().items()))
            if round_ + 1 < repeat:
                time.sleep(interval)
