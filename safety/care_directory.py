"""The care directory's data: crisis lines, text lines, chat and professional
care by country, in `care_directory.json` next to this module.

Migration `0002_care_directory` loads it once, so a deployment has real
resources from its first start; admins keep it up to date in Django admin
afterwards (docs/safety.md, "Care directory"). Loading only creates rows whose
slug is missing: it never overwrites an admin's edit, and running it again
does nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("care_directory.json")

# Demo-only rows the old demo loader created; the directory replaces them.
OLD_EXAMPLE_SLUGS = (
    "example-anxiety",
    "example-depression",
    "example-adhd",
    "example-ocd",
    "example-trauma",
    "example-dbt",
    "example-cbt",
    "example-medication",
    "example-peer-line",
)


@cache
def entries() -> tuple[dict[str, Any], ...]:
    """The entries of the data file, as written (read once per process)."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(data["resources"])


def _values(entry: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    values = {k: v for k, v in entry.items() if k in fields and k != "slug"}
    if values.get("last_verified"):
        values["last_verified"] = dt.date.fromisoformat(values["last_verified"])
    return values


def load_missing(model: Any) -> int:
    """Create the entries whose slug is not in the table yet; return how many.

    `model` is `CareResource` or the migration's historical model, so keys the
    model does not know (reviewers' notes, fields added later) are skipped.
    """
    fields = {f.name for f in model._meta.concrete_fields}
    present = set(model.objects.values_list("slug", flat=True))
    created = 0
    for entry in entries():
        if entry["slug"] in present:
            continue
        model.objects.create(slug=entry["slug"], **_values(entry, fields))
        created += 1
    return created


def retire_old_examples(model: Any) -> int:
    """Hide the demo loader's "Example: ..." rows (kept for any pins)."""
    return model.objects.filter(slug__in=OLD_EXAMPLE_SLUGS, is_example=True).update(
        active=False
    )
