"""Demo data for the safety app.

The care directory is not demo data: migration `0002_care_directory` loads
it in every deployment (docs/safety.md, "Care directory"). The demo loader
only makes sure it is there, reusing the same rows, so running the demo never
duplicates or overwrites a resource.
"""

from __future__ import annotations

from .care_directory import load_missing, retire_old_examples
from .models import CareResource


def load_care_resources() -> int:
    """Create any directory entry that is missing (for instance after a test
    flushed the table); return how many were created. Idempotent."""
    retire_old_examples(CareResource)
    return load_missing(CareResource)
