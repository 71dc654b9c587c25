"""Forms: a step's form from its declared fields, and the small forms of the task actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhengwu.flow.engine import FlowError
from zhengwu.workdays.calendar import StopReason

MAX_OPINION = 2000
MAX_TEXT = 2000


def _field(spec: dict[str, Any]) -> forms.Field:
    kind = spec["type"]
    common: dict[str, Any] = {"label": spec["label"], "required": spec["required"]}
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[tuple(o) for o in spec["options"]]], **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "number":
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if kind == "bool":
        return forms.BooleanField(**common)
    if kind == "char":
        return forms.CharField(max_length=200, **common)
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_TEXT, **common)


class StepForm(forms.Form):
    """The form of one user task: its declared fields, then the opinion (办理意见), always kept."""

    def __init__(self, step: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        for spec in step.get("fields", []):
            self.fields[spec["id"]] = _field(spec)
        self.fields["opinion"] = forms.CharField(
            label=_("办理意见"),
            widget=forms.Textarea(attrs={"rows": 4}),
            max_length=MAX_OPINION,
            required=step.get("props", {}).get("opinion") == "required",
        )

    def step_data(self) -> dict[str, Any]:
        return {spec["id"]: self.cleaned_data.get(spec["id"]) for spec in self.step.get("fields", [])}


def clean_step_data(step: dict[str, Any], data: dict[str, Any], opinion: str) -> dict[str, Any]:
    """Check what a caller passes to task_complete against the step's fields; JSON-ready values back.

    The view's StepForm has already done this for people; services check again so no caller can put
    an undeclared variable or an out-of-range choice into the process data.
    """
    fields = {spec["id"]: spec for spec in step.get("fields", [])}
    unknown = set(data) - set(fields)
    if unknown:
        raise FlowError(_("表单中有未定义的字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    if len(opinion) > MAX_OPINION:
        raise FlowError(_("办理意见不能超过 %(n)d 字") % {"n": MAX_OPINION})
    if step.get("props", {}).get("opinion") == "required" and not opinion.strip():
        raise FlowError(_("请填写办理意见"))
    out: dict[str, Any] = {}
    for field_id, spec in fields.items():
        value = data.get(field_id)
        if value in (None, ""):
            if spec["required"] and spec["type"] != "bool":
                raise FlowError(_("请填写“%(label)s”") % {"label": spec["label"]})
            out[field_id] = False if spec["type"] == "bool" else None
            continue
        kind = spec["type"]
        if kind == "choice":
            if str(value) not in {o[0] for o in spec["options"]}:
                raise FlowError(_("“%(label)s”的取值无效") % {"label": spec["label"]})
            out[field_id] = str(value)
        elif kind == "date":
            try:
                out[field_id] = (
                    value.isoformat()
                    if isinstance(value, dt.date)
                    else dt.date.fromisoformat(str(value)).isoformat()
                )
            except ValueError:
                raise FlowError(_("“%(label)s”不是有效日期") % {"label": spec["label"]}) from None
        elif kind == "number":
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise FlowError(_("“%(label)s”不是有效数字") % {"label": spec["label"]}) from None
            out[field_id] = int(number) if number == number.to_integral_value() else float(number)
        elif kind == "bool":
            out[field_id] = bool(value) and str(value).lower() not in {"0", "false", "off"}
        else:
            text = str(value)
            limit = 200 if kind == "char" else MAX_TEXT
            if len(text) > limit:
                raise FlowError(_("“%(label)s”不能超过 %(n)d 字") % {"label": spec["label"], "n": limit})
            out[field_id] = text
    return out


class SendBackForm(forms.Form):
    target = forms.ChoiceField(label=gettext_lazy("退回到"))
    reason = forms.CharField(
        label=gettext_lazy("退回理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )

    def __init__(self, targets: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target"]).choices = targets


class TransferForm(forms.Form):
    to_user = forms.TypedChoiceField(label=gettext_lazy("转办给"), coerce=int)
    reason = forms.CharField(label=gettext_lazy("转办说明"), max_length=500, required=False)

    def __init__(self, people: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to_user"]).choices = people


class CirculateForm(forms.Form):
    recipients = forms.TypedMultipleChoiceField(
        label=gettext_lazy("传阅给"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=gettext_lazy("传阅说明"), max_length=500, required=False)

    def __init__(self, people: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["recipients"]).choices = people


class UrgeForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("催办说明"), max_length=500, required=False)


class ClockStopForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("暂停事由"), choices=StopReason.choices)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=500, required=False)


class DelegationForm(forms.Form):
    delegate = forms.TypedChoiceField(label=gettext_lazy("受托人"), coerce=int)
    starts_on = forms.DateField(
        label=gettext_lazy("开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("事由"), max_length=200, required=False)

    def __init__(self, people: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["delegate"]).choices = people


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class DefinitionUploadForm(forms.Form):
    bpmn = forms.FileField(label=gettext_lazy("BPMN 文件（.bpmn）"))
    dmn = MultipleFileField(label=gettext_lazy("DMN 决策表（.dmn，可多选）"), required=False)

    def clean_bpmn(self) -> Any:
        f = self.cleaned_data["bpmn"]
        if not f.name.lower().endswith((".bpmn", ".xml")):
            raise forms.ValidationError(_("请上传 .bpmn 文件"))
        return f

    def clean_dmn(self) -> Any:
        files = self.cleaned_data.get("dmn") or []
        for f in files:
            if not f.name.lower().endswith((".dmn", ".xml")):
                raise forms.ValidationError(_("请上传 .dmn 文件"))
        return files


class SampleCaseForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("事项名称"), max_length=200)
    applicant = forms.CharField(label=gettext_lazy("申请人"), max_length=100)
    lead = forms.TypedChoiceField(label=gettext_lazy("牵头单位"), coerce=int)
    dept_1 = forms.TypedChoiceField(label=gettext_lazy("并联部门一"), coerce=int)
    dept_2 = forms.TypedChoiceField(label=gettext_lazy("并联部门二"), coerce=int)
    dept_3 = forms.TypedChoiceField(label=gettext_lazy("并联部门三"), coerce=int)

    def __init__(
        self, leads: list[tuple[int, str]], units: list[tuple[int, str]], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["lead"]).choices = leads
        for name in ("dept_1", "dept_2", "dept_3"):
            cast(forms.ChoiceField, self.fields[name]).choices = units

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [data.get(n) for n in ("dept_1", "dept_2", "dept_3")]
        if None not in chosen and len(set(chosen)) != 3:
            raise forms.ValidationError(_("三个并联部门不能重复"))
        return data
