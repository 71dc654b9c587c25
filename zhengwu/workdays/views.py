"""Pages: the year's calendar for platform admins, and a due-date calculator for staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhengwu.core import access
from zhengwu.workdays import selectors, services
from zhengwu.workdays.calendar import (
    SHANGHAI,
    DueExplanation,
    Limit,
    StoppedPeriod,
    StopReason,
    calendar_coverage_warning,
    explain_due,
    is_workday,
    package_years,
    warning_at,
    year_coverage,
)
from zhengwu.workdays.forms import CalendarDayForm
from zhengwu.workdays.models import CalendarDay

MAX_STOPS = 5


def _can_view_calendar(user: Any) -> bool:
    # The audit admin may read the calendar (it decides deadlines the trail records) but never change it.
    return access.is_system_admin(user) or access.is_audit_admin(user)


def _year_from(raw: str | None) -> int | None:
    if not raw:
        return timezone.localdate().year
    try:
        year = int(raw)
    except ValueError:
        return None
    return year if services.FIRST_YEAR <= year <= services.LAST_YEAR else None


def _parse_day(raw: str) -> date | None:
    try:
        return parse_date(raw) if len(raw) == 10 else None
    except ValueError:  # well formed but not a day, e.g. 2026-02-30
        return None


def _calendar_page(
    request: HttpRequest, year: int, form: CalendarDayForm | None = None, *, status: int = 200
) -> HttpResponse:
    can_edit = access.is_system_admin(request.user)
    if form is None and can_edit:
        initial: dict[str, Any] = {"kind": "holiday"}
        edit = _parse_day(request.GET.get("edit", ""))
        if edit is not None:
            row = CalendarDay.objects.filter(date=edit).first()
            # A day without an override: offer the change of status (a working day becomes a holiday …).
            initial = {"date": edit, "kind": "holiday" if is_workday(edit) else "workday"}
            if row is not None:
                initial = {
                    "date": row.date,
                    "kind": "workday" if row.is_workday else "holiday",
                    "name": row.name,
                    "note": row.note,
                }
        form = CalendarDayForm(initial=initial)
    first, last = package_years()
    return render(
        request,
        "workdays/calendar.html",
        {
            "year": year,
            "years": range(max(services.FIRST_YEAR, year - 3), min(services.LAST_YEAR, year + 3) + 1),
            "coverage": year_coverage(year),
            "months": selectors.calendar_year_months(year),
            "overrides": selectors.calendar_overrides(year),
            "form": form,
            "can_edit": can_edit,
            "package_first": first,
            "package_last": last,
            "coverage_warning": calendar_coverage_warning(timezone.localdate()),
        },
        status=status,
    )


@require_GET
@access.role_required(_can_view_calendar)
def calendar_year(request: HttpRequest) -> HttpResponse:
    """工作日历: a year's working days, holidays and adjusted workdays, with the hand-made changes."""
    year = _year_from(request.GET.get("year"))
    if year is None:
        messages.error(
            request,
            _("年份无效：请填写%(a)d至%(b)d之间的年份") % {"a": services.FIRST_YEAR, "b": services.LAST_YEAR},
        )
        return _calendar_page(request, timezone.localdate().year, status=400)
    return _calendar_page(request, year)


@require_POST
@access.role_required(access.is_system_admin)
def calendar_day_save(request: HttpRequest) -> HttpResponse:
    form = CalendarDayForm(request.POST)
    if not form.is_valid():
        day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
        return _calendar_page(request, day.year if day else timezone.localdate().year, form, status=400)
    day = form.cleaned_data["date"]
    try:
        _row, created = services.calendar_day_save(
            actor=request.user,
            day=day,
            is_workday=form.cleaned_data["kind"] == "workday",
            name=form.cleaned_data["name"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _calendar_page(request, day.year, form, status=400)
    text = _("已添加 %(day)s 的调整") if created else _("已保存 %(day)s 的调整")
    messages.success(request, text % {"day": day.isoformat()})
    return redirect(f"{reverse('workdays:calendar')}?year={day.year}")


@require_POST
@access.role_required(access.is_system_admin)
def calendar_day_delete(request: HttpRequest, day: str) -> HttpResponse:
    parsed = _parse_day(day)
    if parsed is None:
        raise Http404(_("该日期没有人工调整"))
    try:
        services.calendar_day_delete(actor=request.user, day=parsed)
    except CalendarDay.DoesNotExist:
        raise Http404(_("该日期没有人工调整")) from None
    messages.success(
        request, _("已删除 %(day)s 的调整，该日恢复按国务院放假安排计算") % {"day": parsed.isoformat()}
    )
    return redirect(f"{reverse('workdays:calendar')}?year={parsed.year}")


# --- The due-date calculator ----------------------------------------------------------------------------


def _parse_moment(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw or len(raw) > 32:
        return None
    try:
        moment = parse_datetime(raw.replace(" ", "T"))
        if moment is None:
            day = parse_date(raw)
            if day is None:
                return None
            moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


def _stops_from(request: HttpRequest, errors: list[str]) -> tuple[list[StoppedPeriod], list[dict[str, str]]]:
    starts = request.GET.getlist("stop_start")[:MAX_STOPS]
    ends = request.GET.getlist("stop_end")[:MAX_STOPS]
    reasons = request.GET.getlist("stop_reason")[:MAX_STOPS]
    stops: list[StoppedPeriod] = []
    rows: list[dict[str, str]] = []
    for i, raw_start in enumerate(starts):
        raw_end = ends[i] if i < len(ends) else ""
        reason = reasons[i] if i < len(reasons) else StopReason.SUPPLEMENT
        rows.append({"start": raw_start[:32], "end": raw_end[:32], "reason": reason[:32]})
        if not raw_start.strip() and not raw_end.strip():
            continue
        begin = _parse_moment(raw_start)
        end = _parse_moment(raw_end) if raw_end.strip() else None
        if begin is None or (raw_end.strip() and end is None):
            errors.append(_("第%(n)d段暂停计时的时间格式不正确") % {"n": i + 1})
            continue
        if reason not in StopReason.values:
            errors.append(_("第%(n)d段暂停计时的事由无效") % {"n": i + 1})
            continue
        try:
            stops.append(StoppedPeriod(begin, end, reason))
        except ValueError as exc:
            errors.append(_("第%(n)d段：%(error)s") % {"n": i + 1, "error": exc})
    while len(rows) < 2:
        rows.append({"start": "", "end": "", "reason": StopReason.SUPPLEMENT})
    return stops, rows


@require_GET
@access.staff_required
def explain(request: HttpRequest) -> HttpResponse:
    """期限计算器: the due date for any start and limit, with every counted and skipped day shown."""
    raw_start = request.GET.get("start", "")
    raw_limit = request.GET.get("limit", "")
    raw_warn = request.GET.get("warn", "1wd")
    errors: list[str] = []
    explanation: DueExplanation | None = None
    warning: datetime | None = None
    stops, stop_rows = _stops_from(request, errors)
    submitted = bool(raw_start or raw_limit)
    if submitted:
        start = _parse_moment(raw_start)
        if start is None:
            errors.insert(0, _("起算时间格式不正确，请按 2026-09-28 10:00 的格式填写"))
        limit: Limit | None = None
        try:
            limit = Limit.parse(raw_limit)
        except ValueError as exc:
            errors.append(str(exc))
        before: Limit | None = None
        try:
            before = Limit.parse(raw_warn or "1wd")
        except ValueError:
            errors.append(_("预警提前量格式不正确，请写成 1wd、2d 或 4h"))
        if start is not None and not services.FIRST_YEAR <= start.year <= services.LAST_YEAR:
            errors.append(
                _("起算时间须在%(a)d年至%(b)d年之间") % {"a": services.FIRST_YEAR, "b": services.LAST_YEAR}
            )
        if not errors and start is not None and limit is not None and before is not None:
            explanation = explain_due(start, limit, stops)
            warning = warning_at(explanation.due, before)
    now = timezone.localtime()
    return render(
        request,
        "workdays/explain.html",
        {
            "errors": errors,
            "explanation": explanation,
            "warning": warning,
            "start_value": raw_start[:32] if submitted else now.strftime("%Y-%m-%dT%H:%M"),
            "limit_value": raw_limit[:32] if submitted else "20wd",
            "warn_value": raw_warn[:32],
            "stop_rows": stop_rows,
            "reasons": StopReason.choices,
        },
        status=400 if errors else 200,
    )
