from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prompts.starter import load_starter_library


class Command(BaseCommand):
    help = "Load Hearth's starter prompts and session plans (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_starter_library()
        self.stdout.write(
            self.style.SUCCESS(
                f"Starter library: {result.prompts_created} prompts and "
                f"{result.plans_created} plans created."
            )
        )
