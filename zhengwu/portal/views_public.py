"""Public endpoints: the published tree (embedded default) and search, the one dynamic part."""

from __future__ import annotations

import datetime as dt
import posixpath
from pathlib import Path

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.static import serve

from zhengwu.portal import search as search_module
from zhengwu.portal import services
from zhengwu.portal.models import Column, ItemKind, Site

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml; charset=utf-8"}


@require_safe
def published(request: HttpRequest, path: str = "") -> HttpResponseBase:
    """Serve a file of the published tree (nginx does this in production; see ADR 0006).

    `django.views.static.serve` normalises the path and refuses anything outside the tree;
    directories are served through their index.html.
    """
    base = Path(settings.PUBLISH_ROOT) / "site"
    clean = posixpath.normpath(path).lstrip("/") if path else ""
    if clean in (".", ""):
        clean = ""
    if clean.startswith("..") or "/." in f"/{clean}":
        raise Http404(_("页面不存在"))
    target = base / clean
    if clean == "" or path.endswith("/"):
        clean = f"{clean}/index.html".lstrip("/")
    elif target.is_dir():
        return HttpResponseRedirect(f"/site/{clean}/")
    response = serve(request, clean, document_root=str(base))
    suffix = Path(clean).suffix
    if suffix in CONTENT_TYPES:
        response["Content-Type"] = CONTENT_TYPES[suffix]
    # Revalidate every time (a cheap 304 through Last-Modified): a withdrawn page must not linger in
    # readers' caches.
    response["Cache-Control"] = "no-cache"
    return response


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """全站检索: /search/?q=…&site=<code>&column=<id>&kind=&from=&to=&order=relevance|date&page="""
    q = request.GET.get("q", "").strip()[:100]
    site = None
    site_code = request.GET.get("site", "")
    if site_code:
        site = Site.objects.filter(code=site_code, is_active=True).first()
    column = None
    column_ids: list[int] = []
    try:
        column_id = int(request.GET.get("column") or 0)
    except ValueError:
        column_id = 0
    if column_id:
        column = Column.objects.filter(pk=column_id, is_active=True).select_related("site").first()
        if column is not None:
            column_ids = [column.pk, *_descendants(column)]
    kind = request.GET.get("kind", "")
    if kind not in ItemKind.values:
        kind = ""
    date_from = _date(request.GET.get("from", ""))
    date_to = _date(request.GET.get("to", ""))
    order = "date" if request.GET.get("order") == "date" else "relevance"
    try:
        page_number = max(1, min(int(request.GET.get("page") or 1), 500))
    except ValueError:
        page_number = 1
    results = None
    if q:
        results = search_module.search(
            q,
            site_id=site.pk if site else None,
            column_ids=column_ids or None,
            kind=kind,
            date_from=date_from,
            date_to=date_to,
            order=order,
            page=page_number,
        )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "portal/site/search.html",
        {
            "q": q,
            "results": results,
            "site": site,
            "column": column,
            "kind": kind,
            "kinds": ItemKind.choices,
            "sites": Site.objects.filter(is_active=True).order_by("sort", "id"),
            "date_from": date_from,
            "date_to": date_to,
            "order": order,
            "query_string": params.urlencode(),
        },
    )


def _descendants(column: Column) -> list[int]:
    ids: list[int] = []
    frontier = [column.pk]
    for _depth in range(3):
        frontier = list(Column.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        if not frontier:
            break
        ids.extend(frontier)
    return ids


@csrf_exempt
@require_POST
def page_view(request: HttpRequest) -> HttpResponse:
    """The published pages' view counter (navigator.sendBeacon with the page's path; no cookies)."""
    path = request.body[:300].decode("utf-8", "replace").strip()
    if not services.page_view_record(path=path):
        return HttpResponse(status=400)
    return HttpResponse(status=204)
