"""Settings for the real worker and beat processes of the fault tests:
the project's settings, with short leases so a killed worker's rows are
reconciled in seconds, and a sweep every second."""

from config.settings import *  # noqa: F403
from config.settings import HEARTH

HEARTH = {**HEARTH, "SEND_LEASE_SECONDS": 3, "REDISPATCH_SECONDS": 2}
CELERY_BEAT_SCHEDULE = {
    "reminders-sweep": {"task": "reminders.tasks.sweep", "schedule": 1.0},
}
