"""超期督办清单: the carded steps (黄牌/红牌, and 预警 on request) and cases of the units one watches.

Supervisors (监察员) read their unit and every unit below it; leaders (领导) read the units they lead.
Anyone else is refused; a unit outside one's watch is a 404, whether it exists or not.
"""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhengwu.core.access import staff_required
from zhengwu.flow import deadlines, selectors
from zhengwu.workdays.calendar import working_days_between

STATE_CHOICES = [
    ("", gettext_lazy("黄牌和红牌")),
    ("red", gettext_lazy("红牌")),
    ("yellow", gettext_lazy("黄牌")),
    ("warning", gettext_lazy("预警")),
]
SCOPE_CHOICES = [("steps", gettext_lazy("办理环节")), ("cases", gettext_lazy("办件"))]
MAX_QUERY = 50


class CardedFilterForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("对象"), choices=SCOPE_CHOICES, required=False)
    state = forms.ChoiceField(label=gettext_lazy("时限状态"), choices=STATE_CHOICES, required=False)
    unit = forms.TypedChoiceField(label=gettext_lazy("单位"), coerce=int, required=False, empty_value=None)
    key = forms.ChoiceField(label=gettext_lazy("流程"), required=False)
    q = forms.CharField(
        label=gettext_lazy("标题包含"),
        max_length=MAX_QUERY,
        required=False,
        error_messages={"max_length": gettext_lazy("标题关键词不能超过 %(limit_value)d 个字")},
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], keys: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.TypedChoiceField)
        unit_field.choices = [("", _("全部单位")), *units]
        key_field = self.fields["key"]
        assert isinstance(key_field, forms.ChoiceField)
        key_field.choices = [("", _("全部流程")), *keys]


def _overdue_days(due: Any, today: Any) -> int:
    if due is None:
        return 0
    return max(0, working_days_between(timezone.localtime(due).date(), today))


@staff_required
def carded_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not deadlines.may_watch(user):
        raise PermissionDenied(_("只有监察员和单位领导可以查看超期督办清单"))
    # A unit outside one's watch is "not found", like any guessed id (checked before the form, which
    # would otherwise only call it an invalid choice).
    raw_unit = request.GET.get("unit", "")
    watched = deadlines.watch_units(user).order_by("path")
    unit = None
    if raw_unit:
        try:
            unit = watched.filter(pk=int(raw_unit)).first()
        except ValueError:
            unit = None
        if unit is None:
            raise Http404(_("单位不存在或无权访问"))
    keys = [(d.key, d.name) for d in selectors.definitions_latest()]
    units = [(u.pk, u.name) for u in watched[:500]]
    if unit is not None and unit.pk not in {pk for pk, _name in units}:
        units.append((unit.pk, unit.name))
    form = CardedFilterForm(request.GET or None, units=units, keys=keys)
    if request.GET and not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        return render(
            request,
            "flow/deadlines/carded_list.html",
            {"form": form, "error": _("筛选条件无效：%(e)s") % {"e": errors}, "counts": {}, "page": None},
            status=400,
        )
    data = form.cleaned_data if form.is_bound else {}
    scope = data.get("scope") or "steps"
    state = data.get("state") or ""
    states = [state] if state else list(deadlines.CARDS)
    key, query = data.get("key") or "", data.get("q") or ""
    qs: Any = (
        deadlines.carded_instances(user, states=states, unit=unit, key=key, query=query)
        if scope == "cases"
        else deadlines.carded_tasks(user, states=states, unit=unit, key=key, query=query)
    )
    today = timezone.localdate()
    if request.GET.get("format") == "csv":
        return _csv(qs, scope, today)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [
        {
            "obj": obj,
            "due": obj.due_at if scope == "steps" else (obj.promised_due_at or obj.legal_due_at),
            "overdue": _overdue_days(
                obj.due_at if scope == "steps" else (obj.promised_due_at or obj.legal_due_at), today
            ),
        }
        for obj in page
    ]
    return render(
        request,
        "flow/deadlines/carded_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "scope": scope,
            "counts": deadlines.card_counts(user, unit=unit),
            "unit": unit,
            "query_string": request.GET.urlencode(),
        },
    )


def _csv(qs: Any, scope: str, today: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="carded.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese as UTF-8
    writer = csv.writer(response)
    if scope == "cases":
        writer.writerow([_("状态"), _("办件"), _("主办单位"), _("承诺期限"), _("法定期限"), _("超期工作日")])
        for inst in qs[:10000]:
            due = inst.promised_due_at or inst.legal_due_at
            writer.writerow(
                [
                    inst.get_deadline_state_display(),
                    inst.title,
                    inst.unit.name,
                    _fmt(inst.promised_due_at),
                    _fmt(inst.legal_due_at),
                    _overdue_days(due, today),
                ]
            )
        return response
    writer.writerow(
        [_("状态"), _("事项"), _("办理单位"), _("办理人"), _("到期时间"), _("红牌时间"), _("超期工作日")]
    )
    for task in qs[:10000]:
        writer.writerow(
            [
                task.get_deadline_state_display(),
                task.title,
                task.unit.name,
                task.holder_label,
                _fmt(task.due_at),
                _fmt(task.red_at),
                _overdue_days(task.due_at, today),
            ]
        )
    return response


def _fmt(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
