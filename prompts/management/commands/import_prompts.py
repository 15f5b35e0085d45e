from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prompts.services import transfer


class Command(BaseCommand):
    help = (
        "Import prompts from a JSON or CSV file. Every row is checked first; "
        "if any row is bad, nothing is imported and each problem is listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=["json", "csv"], dest="fmt")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish imported versions at once (the file has been reviewed).",
        )
        parser.add_argument(
            "--author", help="Email of the account credited with new prompts."
        )
        parser.add_argument("--credit", default="", help="Free-text author line.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        fmt = options["fmt"] or path.suffix.lstrip(".").lower()
        if fmt not in ("json", "csv"):
            raise CommandError("Use a .json or .csv file, or pass --format.")
        author = None
        if options["author"]:
            author = get_user_model().objects.filter(email=options["author"]).first()
            if author is None:
                raise CommandError(f"No account with the email {options['author']}.")
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                rows = transfer.read_rows(stream, cast(transfer.Format, fmt))
            result = transfer.import_prompts(
                rows=rows,
                by=author,
                publish=options["publish"],
                credit=options["credit"],
            )
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise CommandError(f"{path} is not UTF-8 text.") from e
        except transfer.ImportRejected as e:
            lines = "\n".join(f"  {error}" for error in e.errors)
            raise CommandError(
                f"Nothing was imported; {len(e.errors)} problem(s):\n{lines}"
            ) from e
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {result.created} new, {result.changed} with a new "
                f"version, {result.unchanged} unchanged."
            )
        )
