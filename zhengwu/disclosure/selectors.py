"""Reads for government information disclosure: the public catalogue (browse by unit and category,
search through the portal's index), reports, and disclosure requests through one access helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.models import Unit
from zhengwu.disclosure.models import (
    AnnualReport,
    CatalogueEntry,
    Category,
    DisclosureRequest,
    ReportStatus,
)

PER_PAGE = 20


def category_tree() -> list[tuple[Category, list[Category]]]:
    rows = list(Category.objects.filter(is_active=True).order_by("sort", "id"))
    tops = [c for c in rows if c.parent_id is None]
    return [(top, [c for c in rows if c.parent_id == top.pk]) for top in tops]


def _category_ids(category: Category) -> list[int]:
    return [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]


def catalogue_units() -> list[dict[str, Any]]:
    """Units with listed entries and how many, for the browse-by-unit column."""
    rows = (
        CatalogueEntry.objects.filter(is_listed=True)
        .values("unit_id", "unit__name", "unit__path")
        .annotate(n=Count("id"))
        .order_by("unit__path")
    )
    return [{"id": r["unit_id"], "name": r["unit__name"], "count": r["n"]} for r in rows]


def catalogue_entries(
    *, unit: Unit | None = None, category: Category | None = None
) -> QuerySet[CatalogueEntry]:
    rows = CatalogueEntry.objects.filter(is_listed=True).select_related("unit", "category")
    if unit is not None:
        rows = rows.filter(unit=unit)
    if category is not None:
        rows = rows.filter(category_id__in=_category_ids(category))
    return rows.order_by("-date", "-id")


def catalogue_page(
    *, unit: Unit | None = None, category: Category | None = None, page: int = 1
) -> Page[CatalogueEntry]:
    return Paginator(catalogue_entries(unit=unit, category=category), PER_PAGE).get_page(page)


@dataclass
class CatalogueHit:
    entry: CatalogueEntry
    title_html: Any
    snippet_html: Any


@dataclass
class CatalogueSearch:
    q: str
    hits: list[CatalogueHit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.per_page - 1) // self.per_page)


def catalogue_search(
    q: str, *, unit: Unit | None = None, category: Category | None = None, page: int = 1
) -> CatalogueSearch:
    """Search inside the catalogue: the portal's full-text index (segmented Chinese, title weighted,
    SQLite FTS5 or PostgreSQL), limited to listed entries of the unit / category; an exact index number
    or a subject word (主题词) finds its entries too, first."""
    from zhengwu.portal import search as portal_search

    q = q.strip()[:100]
    where = ["is_listed = %s"]
    params: list[Any] = [True]
    if unit is not None:
        where.append("unit_id = %s")
        params.append(unit.pk)
    if category is not None:
        ids = _category_ids(category)
        where.append(f"category_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    within = (f"SELECT item_id FROM {CatalogueEntry._meta.db_table} WHERE {' AND '.join(where)}", params)
    found = portal_search.search(q, within=within, page=page, per_page=PER_PAGE)
    exact: list[CatalogueEntry] = []
    if page == 1 and q:
        direct = catalogue_entries(unit=unit, category=category).filter(
            Q(index_number=q) | Q(subject_words__icontains=q)
        )
        exact = list(direct[:PER_PAGE])
    entries = CatalogueEntry.objects.select_related("unit", "category").in_bulk(
        [h.item_id for h in found.hits], field_name="item_id"
    )
    hits = [CatalogueHit(entry=e, title_html=e.title, snippet_html="") for e in exact]
    seen = {e.pk for e in exact}
    for hit in found.hits:
        entry = entries.get(hit.item_id)
        if entry is not None and entry.pk not in seen:
            hits.append(CatalogueHit(entry=entry, title_html=hit.title_html, snippet_html=hit.snippet_html))
    return CatalogueSearch(q=q, hits=hits, total=found.total + len(exact), page=page, per_page=PER_PAGE)


def published_reports() -> QuerySet[AnnualReport]:
    return (
        AnnualReport.objects.filter(status=ReportStatus.PUBLISHED)
        .select_related("unit")
        .order_by("-year", "unit__path")
    )


def report_get_for_user(user: Any, report_id: Any) -> AnnualReport:
    """A published report for anyone; a draft only for staff of its unit. 404 otherwise."""
    try:
        report = AnnualReport.objects.select_related("unit").get(pk=int(report_id))
    except (AnnualReport.DoesNotExist, TypeError, ValueError):
        raise Http404(_("年度报告不存在")) from None
    if report.status != ReportStatus.PUBLISHED and report.unit_id not in access.user_unit_ids(user):
        raise Http404(_("年度报告不存在"))
    return report


def request_get_for_user(user: Any, request_id: Any) -> DisclosureRequest:
    """The applicant sees their own request; staff of the receiving unit see its requests. Anyone else —
    another unit's staff, another citizen, a guessed id — gets 404, existing or not."""
    try:
        request = DisclosureRequest.objects.select_related("unit", "applicant", "published_item").get(
            pk=int(request_id)
        )
    except (DisclosureRequest.DoesNotExist, TypeError, ValueError):
        raise Http404(_("申请不存在")) from None
    if not user.is_authenticated:
        raise Http404(_("申请不存在"))
    if request.applicant_id == user.pk:
        return request
    if access.is_staff_user(user) and request.unit_id in access.user_unit_ids(user):
        return request
    raise Http404(_("申请不存在"))


def requests_for_applicant(user: Any) -> QuerySet[DisclosureRequest]:
    return DisclosureRequest.objects.filter(applicant_id=user.pk).select_related("unit")


def requests_for_unit(user: Any, unit: Unit, *, status: str = "") -> QuerySet[DisclosureRequest]:
    if unit.pk not in access.user_unit_ids(user):
        raise Http404(_("单位不存在或无权访问"))
    rows = DisclosureRequest.objects.filter(unit=unit).select_related("unit")
    if status:
        rows = rows.filter(status=status)
    return rows


def disclosure_units(user: Any) -> list[Unit]:
    """The units whose disclosure work a staff member does (their own units)."""
    return list(Unit.objects.filter(pk__in=access.user_unit_ids(user)).order_by("path"))


def entry_get_for_user(user: Any, entry_id: Any, *, manage: bool = False) -> CatalogueEntry:
    try:
        entry = CatalogueEntry.objects.select_related("unit", "category", "item").get(pk=int(entry_id))
    except (CatalogueEntry.DoesNotExist, TypeError, ValueError):
        raise Http404(_("目录条目不存在")) from None
    if manage:
        if entry.unit_id not in access.user_unit_ids(user):
            raise Http404(_("目录条目不存在"))
    elif not entry.is_listed:
        raise Http404(_("目录条目不存在"))
    return entry
