from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhengwu.core.access import staff_required
from zhengwu.workbench.selectors import workbench_for


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: my to-do items, items to read, notices and the modules I can enter."""
    return render(request, "workbench/home.html", workbench_for(request.user))
