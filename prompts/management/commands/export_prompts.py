from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prompts.services import transfer


class Command(BaseCommand):
    help = "Export prompts as JSON or CSV (the format import_prompts reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="File (default stdout).")
        parser.add_argument("--format", choices=["json", "csv"], dest="fmt")
        parser.add_argument(
            "--latest",
            action="store_true",
            help="Each prompt's latest version, drafts included (default: "
            "published versions only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path | None = options["output"]
        fmt = options["fmt"] or (
            output.suffix.lstrip(".").lower() if output else "json"
        )
        if fmt not in ("json", "csv"):
            raise CommandError("Use --format json or csv.")
        rows = transfer.export_rows(
            include="latest" if options["latest"] else "published"
        )
        if output is None:
            self.stdout.write(
                transfer.dumps(rows, cast(transfer.Format, fmt)), ending=""
            )
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as stream:
                transfer.write_rows(rows, stream, cast(transfer.Format, fmt))
        except OSError as e:
            raise CommandError(f"Cannot write {output}: {e.strerror}") from e
        self.stderr.write(f"Exported {len(rows)} prompts to {output}.")
