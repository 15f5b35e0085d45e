from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": "Hearth",
        "DEBUG": settings.DEBUG,
        "viewer_timezone": user.timezone if user and user.is_authenticated else "UTC",
    }
