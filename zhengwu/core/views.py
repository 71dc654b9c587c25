from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhengwu.core import access, selectors
from zhengwu.core.access import staff_required
from zhengwu.core.models import UnitKind


@staff_required
def address_book(request: HttpRequest) -> HttpResponse:
    """通讯录: every unit with its phone; open a unit to see its departments and staff."""
    query = request.GET.get("q", "").strip()[:64]
    kind = request.GET.get("kind", "")
    if kind not in UnitKind.values:
        kind = ""
    page = Paginator(selectors.address_book(query=query, kind=kind), 50).get_page(request.GET.get("page"))
    return render(
        request, "core/address_book.html", {"page": page, "q": query, "kind": kind, "kinds": UnitKind.choices}
    )


@staff_required
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit's own workspace page: only its staff (and platform system admins) may open it."""
    unit = access.unit_get_for_user(request.user, unit_id)
    return render(
        request,
        "core/unit_detail.html",
        {
            "unit": unit,
            "departments": unit.departments.all(),
            "staff": selectors.unit_staff(unit),
            "can_manage": access.can_manage_unit(request.user, unit),
        },
    )


@access.role_required(lambda u: access.is_audit_admin(u) or bool(access.units_with_role(u, "supervisor")))
def audit_list(request: HttpRequest) -> HttpResponse:
    from zhengwu.core.models import AuditEvent

    qs = AuditEvent.objects.order_by("-seq")
    if not access.is_audit_admin(request.user):
        qs = qs.filter(unit__in=access.supervised_units(request.user))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page})
