"""Care resources for members. (Filled in by the safety work.)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def support(request: HttpRequest) -> HttpResponse:
    return render(request, "safety/support.html", {})
