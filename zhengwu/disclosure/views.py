"""Pages for government information disclosure: the public catalogue and reports, the citizen's
application and their own requests, and the unit's handling pages. Views parse, check access through the
selectors, call one service and render; a refused action answers 400 with the reason, 403 for a step
that is not the user's, 404 for anything not theirs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from zhengwu.core import access
from zhengwu.core.models import AccountKind, Unit
from zhengwu.disclosure import selectors, services
from zhengwu.disclosure.models import (
    AnnualReport,
    Category,
    DeliveryForm,
    Outcome,
    RequestStatus,
    WithheldReason,
)
from zhengwu.disclosure.services import DisclosureError
from zhengwu.flow import selectors as flow_selectors
from zhengwu.flow.models import ClockStop


def _refused(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "disclosure/refused.html", {"message": message}, status=status)


def _act(request: HttpRequest, call: Callable[[], Any], done: str, success: str) -> HttpResponse:
    try:
        call()
    except DisclosureError as exc:
        return _refused(request, str(exc))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, success)
    return redirect(done)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _page(request: HttpRequest) -> int:
    return max(1, min(_int(request.GET.get("page")) or 1, 1000))


# --- Public: the catalogue and reports ---------------------------------------------------------------


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    """政务信息公开目录: browse by unit and by category, search inside the catalogue."""
    unit = Unit.objects.filter(pk=_int(request.GET.get("unit")) or 0, is_active=True).first()
    category = Category.objects.filter(pk=_int(request.GET.get("category")) or 0, is_active=True).first()
    q = request.GET.get("q", "").strip()[:100]
    page = _page(request)
    context: dict[str, Any] = {
        "units": selectors.catalogue_units(),
        "tree": selectors.category_tree(),
        "unit": unit,
        "category": category,
        "q": q,
    }
    if q:
        context["found"] = selectors.catalogue_search(q, unit=unit, category=category, page=page)
    else:
        context["entries"] = selectors.catalogue_page(unit=unit, category=category, page=page)
    params = request.GET.copy()
    params.pop("page", None)
    context["query_string"] = params.urlencode()
    return render(request, "disclosure/catalogue.html", context)


@require_safe
def entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    found = selectors.entry_get_for_user(request.user, entry_id)
    return render(request, "disclosure/entry.html", {"entry": found})


@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "disclosure/reports.html", {"reports": selectors.published_reports()[:500]})


@require_safe
def report(request: HttpRequest, report_id: int) -> HttpResponse:
    found = selectors.report_get_for_user(request.user, report_id)
    return render(
        request,
        "disclosure/report.html",
        {
            "report": found,
            "can_edit": services.can_keep_catalogue(request.user, found.unit_id),
            "can_publish": services.can_publish_report(request.user, found.unit_id),
        },
    )


# --- The applicant ----------------------------------------------------------------------------------


def _public_only(request: HttpRequest) -> None:
    if request.user.kind == AccountKind.STAFF:
        raise PermissionDenied(_("依申请公开请使用公众账号（个人或企业）提交"))


@access.public_required
def apply(request: HttpRequest) -> HttpResponse:
    """申请公开: the signed-in citizen's or enterprise's application form."""
    _public_only(request)
    units = Unit.objects.filter(is_active=True).order_by("path").only("pk", "name")
    values = request.POST if request.method == "POST" else {"applicant_name": request.user.name}
    context = {
        "units": units,
        "forms": DeliveryForm.choices,
        "values": values,
        "token": request.POST.get("token") or secrets.token_urlsafe(24),
    }
    if request.method != "POST":
        return render(request, "disclosure/apply.html", context)
    unit = Unit.objects.filter(pk=_int(request.POST.get("unit")) or 0, is_active=True).first()
    try:
        if unit is None:
            raise DisclosureError(_("请选择受理机关"))
        created = services.request_submit(
            actor=request.user,
            unit=unit,
            applicant_name=request.POST.get("applicant_name", ""),
            id_number=request.POST.get("id_number", ""),
            phone=request.POST.get("phone", ""),
            address=request.POST.get("address", ""),
            email=request.POST.get("email", ""),
            description=request.POST.get("description", ""),
            purpose=request.POST.get("purpose", ""),
            delivery_form=request.POST.get("delivery_form", ""),
            token=request.POST.get("token", ""),
        )
    except DisclosureError as exc:
        context["error"] = str(exc)
        return render(request, "disclosure/apply.html", context, status=400)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("申请已提交，申请编号 %(n)s") % {"n": created.number})
    return redirect("disclosure:request_detail", created.pk)


@access.public_required
@require_safe
def my_requests(request: HttpRequest) -> HttpResponse:
    _public_only(request)
    return render(
        request, "disclosure/my_requests.html", {"rows": selectors.requests_for_applicant(request.user)[:200]}
    )


@access.public_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request: the applicant's view (status, supplement, reply) or the unit's handling page."""
    found = selectors.request_get_for_user(request.user, request_id)
    is_applicant = found.applicant_id == request.user.pk
    context: dict[str, Any] = {
        "req": found,
        "is_applicant": is_applicant,
        "supplements": list(found.supplements.all()),
        "open_supplement": next((s for s in found.supplements.all() if s.answered_at is None), None),
        "outcomes": Outcome.choices,
        "reasons": WithheldReason.choices,
    }
    if not is_applicant:
        task = services.request_open_task(found)
        context["task"] = task
        context["may_act"] = task is not None and flow_selectors.may_hold(request.user, task)
        context["stops"] = list(ClockStop.objects.filter(instance_id=found.instance_id or 0))
        from zhengwu.portal.models import Column

        context["columns"] = (
            Column.objects.filter(site__unit_id=found.unit_id, is_active=True, site__is_active=True)
            .select_related("site")
            .order_by("site_id", "sort", "id")
        )
        context["now"] = timezone.now()
    return render(request, "disclosure/request_detail.html", context)


@access.public_required
@require_POST
def supplement_answer(request: HttpRequest, request_id: int) -> HttpResponse:
    found = selectors.request_get_for_user(request.user, request_id)
    return _act(
        request,
        lambda: services.request_supplement_answer(
            actor=request.user, request=found, answer=request.POST.get("answer", "")
        ),
        found.get_absolute_url(),
        _("补正内容已提交，答复期限恢复计算"),
    )


# --- The unit -----------------------------------------------------------------------------------------


@access.staff_required
@require_safe
def manage(request: HttpRequest) -> HttpResponse:
    """The unit's disclosure desk: its requests (personal data masked), catalogue and reports."""
    units = selectors.disclosure_units(request.user)
    if not units:
        raise PermissionDenied(_("您不属于任何单位"))
    unit = (
        access.unit_get_for_user(request.user, request.GET["unit"]) if request.GET.get("unit") else units[0]
    )
    status = request.GET.get("status", "")
    if status not in RequestStatus.values:
        status = ""
    return render(
        request,
        "disclosure/manage.html",
        {
            "units": units,
            "unit": unit,
            "status": status,
            "statuses": RequestStatus.choices,
            "rows": selectors.requests_for_unit(request.user, unit, status=status)[:200],
            "entries": selectors.catalogue_entries(unit=unit)[:50],
            "reports": AnnualReport.objects.filter(unit=unit).order_by("-year"),
            "can_keep": services.can_keep_catalogue(request.user, unit),
            "this_year": timezone.localdate().year,
            "now": timezone.now(),
        },
    )


def _staff_request(request: HttpRequest, request_id: int) -> Any:
    if not access.is_staff_user(request.user):
        raise Http404(_("申请不存在"))
    return selectors.request_get_for_user(request.user, request_id)


@access.staff_required
@require_POST
def register(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _staff_request(request, request_id)
    return _act(
        request,
        lambda: services.request_register(
            actor=request.user, request=found, opinion=request.POST.get("opinion", "")
        ),
        found.get_absolute_url(),
        _("已登记受理"),
    )


@access.staff_required
@require_POST
def supplement_ask(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _staff_request(request, request_id)
    return _act(
        request,
        lambda: services.request_supplement_ask(
            actor=request.user, request=found, question=request.POST.get("question", "")
        ),
        found.get_absolute_url(),
        _("已告知申请人补正，答复期限暂停计算"),
    )


@access.staff_required
@require_POST
def handle(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _staff_request(request, request_id)
    return _act(
        request,
        lambda: services.request_handle(
            actor=request.user,
            request=found,
            action=request.POST.get("action", ""),
            opinion=request.POST.get("opinion", ""),
            extension_reason=request.POST.get("extension_reason", ""),
        ),
        found.get_absolute_url(),
        _("已办理"),
    )


@access.staff_required
@require_POST
def extension(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _staff_request(request, request_id)
    decision = request.POST.get("decision", "")
    if decision not in ("agree", "disagree"):
        return _refused(request, _("请选择是否同意延期"))
    return _act(
        request,
        lambda: services.request_extension_decide(
            actor=request.user,
            request=found,
            agree=decision == "agree",
            opinion=request.POST.get("opinion", ""),
        ),
        found.get_absolute_url(),
        _("延期审批已办理"),
    )


@access.staff_required
@require_POST
def reply(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _staff_request(request, request_id)
    return _act(
        request,
        lambda: services.request_reply(
            actor=request.user,
            request=found,
            outcome=request.POST.get("outcome", ""),
            reply_text=request.POST.get("reply_text", ""),
            withheld_reason=request.POST.get("withheld_reason", ""),
        ),
        found.get_absolute_url(),
        _("已答复申请人"),
    )


@access.staff_required
@require_POST
def publish(request: HttpRequest, request_id: int) -> HttpResponse:
    from zhengwu.portal.models import Column

    found = _staff_request(request, request_id)
    column = Column.objects.select_related("site").filter(pk=_int(request.POST.get("column")) or 0).first()
    return _act(
        request,
        lambda: services.request_publish(
            actor=request.user, request=found, column=column, title=request.POST.get("title", "")
        ),
        found.get_absolute_url(),
        _("已生成门户信息并提交发布审核"),
    )


@access.staff_required
def entry_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    found = selectors.entry_get_for_user(request.user, entry_id, manage=True)
    if request.method != "POST":
        return render(
            request, "disclosure/entry_edit.html", {"entry": found, "tree": selectors.category_tree()}
        )
    category = Category.objects.filter(pk=_int(request.POST.get("category")) or 0).first()
    if category is None:
        return _refused(request, _("请选择公开目录分类"))
    return _act(
        request,
        lambda: services.catalogue_entry_update(
            actor=request.user,
            entry=found,
            category=category,
            subject_words=request.POST.get("subject_words", ""),
        ),
        f"{found.get_absolute_url()}",
        _("目录条目已更新"),
    )


@access.staff_required
@require_POST
def report_generate(request: HttpRequest) -> HttpResponse:
    unit = access.unit_get_for_user(request.user, request.POST.get("unit"))
    year = _int(request.POST.get("year"))
    if year is None:
        return _refused(request, _("请填写年度"))
    try:
        made = services.annual_report_generate(actor=request.user, unit=unit, year=year)
    except DisclosureError as exc:
        return _refused(request, str(exc))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("年度报告数据已统计"))
    return redirect("disclosure:report", made.pk)


@access.staff_required
@require_POST
def report_update(request: HttpRequest, report_id: int) -> HttpResponse:
    found = selectors.report_get_for_user(request.user, report_id)
    if found.unit_id not in access.user_unit_ids(request.user):
        raise Http404(_("年度报告不存在"))
    return _act(
        request,
        lambda: services.annual_report_update(
            actor=request.user,
            report=found,
            overview=request.POST.get("overview", ""),
            problems=request.POST.get("problems", ""),
            other=request.POST.get("other", ""),
        ),
        reverse("disclosure:report", args=[found.pk]),
        _("年度报告已保存"),
    )


@access.staff_required
@require_POST
def report_publish(request: HttpRequest, report_id: int) -> HttpResponse:
    found = selectors.report_get_for_user(request.user, report_id)
    if found.unit_id not in access.user_unit_ids(request.user):
        raise Http404(_("年度报告不存在"))
    return _act(
        request,
        lambda: services.annual_report_publish(actor=request.user, report=found),
        reverse("disclosure:report", args=[found.pk]),
        _("年度报告已发布"),
    )


@access.role_required(access.is_system_admin)
def settings_page(request: HttpRequest) -> HttpResponse:
    """公开目录设置 (system administrator): the index-number rule and the category tree."""
    context: dict[str, Any] = {
        "pattern": services.index_rule_current(),
        "tree": selectors.category_tree(),
        "all": Category.objects.order_by("sort", "id"),
    }
    if request.method != "POST":
        return render(request, "disclosure/settings.html", context)
    what = request.POST.get("what", "")
    if what == "rule":
        return _act(
            request,
            lambda: services.index_rule_set(actor=request.user, pattern=request.POST.get("pattern", "")),
            "disclosure:settings",
            _("索引号规则已保存"),
        )
    if what == "category":
        parent = Category.objects.filter(pk=_int(request.POST.get("parent")) or 0).first()
        return _act(
            request,
            lambda: services.category_create(
                actor=request.user,
                name=request.POST.get("name", ""),
                code=request.POST.get("code", ""),
                parent=parent,
                sort=request.POST.get("sort", "0"),  # type: ignore[arg-type]
                column_slugs=request.POST.get("column_slugs", ""),
                item_kinds=request.POST.get("item_kinds", ""),
            ),
            "disclosure:settings",
            _("分类已添加"),
        )
    return _refused(request, _("无效的操作"))
