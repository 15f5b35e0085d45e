"""The "Get support" page and "My reports"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthedRequest, HearthRequest
from safety.forms import CountryForm
from safety.models import PinnedResource, Report
from safety.services.care import (
    ResourceData,
    country_code,
    crisis_card,
    resource_data,
    resources_for,
)


def support(request: HearthRequest) -> HttpResponse:
    """Crisis lines and care for the viewer's country (profile or
    ?country=), with the international fallback. Open to everyone."""
    asked = request.GET.get("country")
    user = request.user
    if asked is not None:
        code = country_code(asked)
    else:
        code = (
            country_code(getattr(user, "country", ""))
            if user.is_authenticated
            else None
        )
    form = CountryForm(initial={"country": code or ""})
    resources = resources_for(code)
    pins: list[ResourceData] = []
    if user.is_authenticated:
        seen: set[int] = set()
        for pin in (
            PinnedResource.objects.filter(
                group__memberships__user=user, resource__active=True
            )
            .select_related("resource")
            .order_by("group__name", "pinned_at")[:30]
        ):
            if pin.resource.pk not in seen:
                seen.add(pin.resource.pk)
                pins.append(resource_data(pin.resource))
    return render(
        request,
        "safety/support.html",
        {
            "card": crisis_card(code, "concern"),
            "country": code,
            "form": form,
            "crisis": [resource_data(r) for r in resources if r.is_crisis],
            "care": [resource_data(r) for r in resources if not r.is_crisis],
            "pins": pins,
        },
    )


@login_required
def my_reports(request: AuthedRequest) -> HttpResponse:
    """What became of the reports this person made."""
    reports = Report.objects.filter(reporter=request.user).select_related("group")[:100]
    return render(request, "safety/my_reports.html", {"reports": reports})
