"""The document search page (公文检索): title words or a document number, among the documents the
user's units sent or received."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhengwu.core import access
from zhengwu.documents.search import COUNT_CAP, document_search

MAX_QUERY = 100


@access.staff_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    raw_before = request.GET.get("before", "")
    error = ""
    before = None
    if len(q) > MAX_QUERY:
        error = _("检索词不能超过 %(n)s 个字") % {"n": MAX_QUERY}
    elif raw_before:
        try:
            before = int(raw_before)
        except ValueError:
            error = _("翻页参数无效")
    if error:
        return render(request, "documents/refused.html", {"message": error}, status=400)
    results = document_search(access.user_unit_ids(request.user), q, before=before)
    return render(
        request,
        "documents/search.html",
        {"q": q, "results": results, "count_cap": COUNT_CAP, "searched": bool(q)},
    )
