from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengwu.workdays.services import FIRST_YEAR, LAST_YEAR


class CalendarDayForm(forms.Form):
    """Enter or change one day of the calendar (节假日 / 工作日)."""

    date = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("请填写日期"),
            "invalid": _("日期格式不正确，请按 2027-10-01 的格式填写"),
        },
    )
    kind = forms.ChoiceField(
        label=_("这一天是"),
        choices=[("holiday", _("节假日（不计入工作日）")), ("workday", _("工作日（如调休上班）"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择节假日或工作日"), "invalid_choice": _("请选择节假日或工作日")},
    )
    name = forms.CharField(
        label=_("名称"),
        required=False,
        max_length=32,
        help_text=_("如“国庆节”“调休上班”"),
        error_messages={"max_length": _("名称不能超过32个字")},
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=200,
        help_text=_("如依据的文件：国办发明电〔2026〕X号"),
        error_messages={"max_length": _("说明不能超过200个字")},
    )

    def clean_date(self) -> Any:
        value = self.cleaned_data["date"]
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("日期须在%(a)d年至%(b)d年之间"), params={"a": FIRST_YEAR, "b": LAST_YEAR}
            )
        return value
