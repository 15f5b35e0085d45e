from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse

from prompts import access

PAGE_SIZE = 25

View = Callable[..., HttpResponse]


def facilitator_required(view: View) -> View:
    """Anonymous visitors go to log in; anyone who is not a facilitator gets
    a 404, so the library's existence reveals nothing to members."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_facilitator(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def curator_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_curator(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def paginate(request: HttpRequest, items: Any, per_page: int = PAGE_SIZE) -> Page:
    """A page; a bad or out-of-range number gives the nearest real page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def report(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)
