from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The public portal shell (门户); the portal subsystem fills it with sites and columns."""
    return render(request, "portal/home.html")
