"""Forms of the meeting pages (the attendee form is built from the organizer's declared fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import Unit, UnitGroup
from zhengwu.meetings.models import FIELD_CATALOGUE

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
FIELD_MODES = (("", _("不需要")), ("optional", _("选填")), ("required", _("必填")))


class MeetingForm(forms.Form):
    organizer = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("组织单位"))
    title = forms.CharField(label=_("会议名称"), max_length=200)
    place = forms.CharField(label=_("会议地点"), max_length=200)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DT)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DT)
    deadline = forms.DateTimeField(label=_("报名截止时间"), widget=DT)
    cap_per_unit = forms.IntegerField(label=_("每单位限报人数"), required=False, min_value=1, max_value=1000)
    total_cap = forms.IntegerField(label=_("总人数上限"), required=False, min_value=1, max_value=100000)
    body = forms.CharField(label=_("通知内容"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    groups = forms.ModelMultipleChoiceField(
        queryset=UnitGroup.objects.none(),
        label=_("通知单位分组"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    units = forms.ModelMultipleChoiceField(
        queryset=Unit.objects.filter(is_active=True).order_by("path"),
        label=_("另选单位"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args: Any, organizers: Any, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizer"].queryset = organizers  # type: ignore[attr-defined]
        self.fields["groups"].queryset = groups  # type: ignore[attr-defined]
        for key, (label, _choices, _max) in FIELD_CATALOGUE.items():
            self.fields[f"field_{key}"] = forms.ChoiceField(
                label=label, choices=FIELD_MODES, required=False, initial=""
            )

    def field_mode_names(self) -> list[Any]:
        return [self[f"field_{key}"] for key in FIELD_CATALOGUE]

    def form_fields(self) -> list[dict[str, Any]]:
        out = []
        for key in FIELD_CATALOGUE:
            mode = self.cleaned_data.get(f"field_{key}")
            if mode:
                out.append({"key": key, "required": mode == "required"})
        return out


class MeetingChangeForm(forms.Form):
    title = forms.CharField(label=_("会议名称"), max_length=200)
    place = forms.CharField(label=_("会议地点"), max_length=200)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DT)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DT)
    deadline = forms.DateTimeField(label=_("报名截止时间"), widget=DT)
    cap_per_unit = forms.IntegerField(label=_("每单位限报人数"), required=False, min_value=1, max_value=1000)
    total_cap = forms.IntegerField(label=_("总人数上限"), required=False, min_value=1, max_value=100000)


def attendee_form_class(meeting: Any) -> type[forms.Form]:
    """报名表: name always, then the fields the organizer asked for, then 代参会."""
    fields: dict[str, forms.Field] = {"name": forms.CharField(label=_("姓名"), max_length=32)}
    for spec in meeting.field_specs()[1:]:
        key = spec["key"]
        _label, choices, max_len = FIELD_CATALOGUE[key]
        if choices:
            fields[key] = forms.ChoiceField(
                label=spec["label"],
                required=spec["required"],
                choices=[("", "—"), *choices],
            )
        else:
            fields[key] = forms.CharField(label=spec["label"], required=spec["required"], max_length=max_len)
    fields["substitute_for"] = forms.CharField(
        label=_("代参会：代替谁参会（如代替的领导姓名职务，本人参会则留空）"), required=False, max_length=64
    )
    return type("AttendeeForm", (forms.Form,), fields)
