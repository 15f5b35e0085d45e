"""Unsubscribing, reminder preferences, and the development outbox page."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.http import AuthedRequest
from accounts.mail import read_outbox
from accounts.models import User
from groups.models import SupportGroup

from . import services_prefs
from .forms import PreferencesForm
from .unsubscribe import read_token

OUTBOX_PAGE_SIZE = 50


# --- One-click unsubscribe (RFC 8058) ---------------------------------------
# The signed token is the permission, and mail apps post without a CSRF
# token, so this one view is exempt. It only ever turns emails off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    scope = read_token(token)
    user = User.objects.filter(pk=scope.user_id).first() if scope else None
    if scope is None or user is None:
        return render(request, "reminders/unsubscribe_invalid.html", status=404)
    group = (
        SupportGroup.objects.filter(pk=scope.group_id).first()
        if scope.group_id
        else None
    )
    context: dict[str, Any] = {"token": token, "group": group, "scope": scope}
    context["family_label"] = services_prefs.family_label(scope.family)
    if request.method == "GET":
        return render(request, "reminders/unsubscribe.html", context)
    everywhere = request.POST.get("everywhere") == "1"
    services_prefs.opt_out(
        user=user,
        family=scope.family,
        group=None if everywhere else group,
    )
    context["everywhere"] = everywhere or group is None
    return render(request, "reminders/unsubscribed.html", context)


# --- Preferences -------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    user = request.user
    initial = services_prefs.current(user)
    form = PreferencesForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        services_prefs.save(user=user, data=form.cleaned_data)
        messages.success(request, "Your email choices are saved.")
        return redirect("reminders:preferences")
    return render(request, "reminders/preferences.html", {"form": form})


# --- Development outbox (DEBUG only) ------------------------------------------
def _require_debug() -> Path:
    if not settings.DEBUG:
        raise Http404("Not available.")
    return Path(settings.OUTBOX_DIR)


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        parsed = email.message_from_binary_file(handle, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _summary(path: Path, message: EmailMessage) -> dict[str, Any]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments = [
        {
            "index": index,
            "filename": part.get_filename() or f"part-{index}",
            "content_type": part.get_content_type(),
            "method": part.get_param("method") or "",
            "size": len(part.get_payload(decode=True) or b""),
        }
        for index, part in enumerate(message.iter_attachments())
    ]
    return {
        "name": path.name,
        "subject": str(message["Subject"] or ""),
        "to": str(message["To"] or ""),
        "date": str(message["Date"] or ""),
        "headers": [
            (k, str(v))
            for k, v in message.items()
            if k.lower().startswith("list-") or k.lower() == "message-id"
        ],
        "text": text.get_content() if text is not None else "",  # type: ignore[attr-defined]
        "html": html.get_content() if html is not None else "",  # type: ignore[attr-defined]
        "attachments": attachments,
    }


def _find(directory: Path, name: str) -> Path:
    path = directory / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        raise Http404("No such email.")
    return path


def outbox(request: HttpRequest) -> HttpResponse:
    directory = _require_debug()
    files = read_outbox(directory)[:OUTBOX_PAGE_SIZE]
    chosen = request.GET.get("email", "")
    selected = None
    if chosen:
        path = _find(directory, chosen)
        selected = _summary(path, _parse(path))
    rows = [
        {"name": p.name, "subject": str(m["Subject"] or ""), "to": str(m["To"] or "")}
        for p in files
        if (m := _parse(p)) is not None
    ]
    return render(
        request,
        "reminders/outbox.html",
        {"rows": rows, "selected": selected, "directory": directory},
    )


def outbox_html(request: HttpRequest, name: str) -> HttpResponse:
    """The HTML part on its own, sandboxed: no scripts, no requests out."""
    directory = _require_debug()
    message = _parse(_find(directory, name))
    part = message.get_body(preferencelist=("html",))
    body = part.get_content() if part is not None else ""  # type: ignore[attr-defined]
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


def outbox_attachment(request: HttpRequest, name: str, index: int) -> HttpResponse:
    directory = _require_debug()
    message = _parse(_find(directory, name))
    parts = list(message.iter_attachments())
    if not 0 <= index < len(parts):
        raise Http404("No such attachment.")
    part = parts[index]
    response = HttpResponse(
        part.get_payload(decode=True) or b"", content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
