"""Request types for views, so type checkers know what middleware adds."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from .models import User


class HearthRequest(HttpRequest):
    user: User | AnonymousUser  # type: ignore[assignment]
    htmx: HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind login_required."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails
