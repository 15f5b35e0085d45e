"""The "Get support" page and "My reports"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthedRequest, HearthRequest
from safety.forms import CountryForm
from safety.models import Report
from safety.services.care import support_page


def support(request: HearthRequest) -> HttpResponse:
    """Crisis lines and care for the viewer's country: the one chosen on the
    page (?country=), else the profile's, else the international fallback.
    Open to everyone."""
    user = request.user
    asked = request.GET.get("country")
    if asked is None and user.is_authenticated:
        asked = getattr(user, "country", "") or None
    page = support_page(asked, user=user)
    form = CountryForm(initial={"country": page["country"] or ""})
    return render(request, "safety/support.html", {**page, "form": form})


@login_required
def my_reports(request: AuthedRequest) -> HttpResponse:
    """What became of the reports this person made."""
    reports = Report.objects.filter(reporter=request.user).select_related("group")[:100]
    return render(request, "safety/my_reports.html", {"reports": reports})
