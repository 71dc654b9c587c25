"""Forms for unit management, platform administration, the address book and the trail's filters.

Forms only parse and validate input; writes go through zhengwu.core.services.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import (
    AccountKind,
    Department,
    PlatformRole,
    Post,
    Region,
    RegionLevel,
    Unit,
    UnitKind,
    UnitRoleKind,
    User,
)

mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("请输入 11 位手机号码"))
phone_validator = RegexValidator(r"^[0-9()+\- ]{3,32}$", _("电话号码只能包含数字、空格、括号、+ 和 -"))
username_validator = RegexValidator(r"^[A-Za-z0-9_.\-]{3,64}$", _("用户名为 3 到 64 位字母、数字或 _ . -"))
code_validator = RegexValidator(r"^[A-Za-z0-9_\-]{1,32}$", _("代码只能包含字母、数字、_ 和 -"))


class _Form(forms.Form):
    """Base of this module's forms (Django's own messages are translated into Chinese already)."""

    template_name_div = "django/forms/div.html"


# --- Unit workspace ---------------------------------------------------------------------------------
class DepartmentForm(_Form):
    name = forms.CharField(label=_("科室名称"), max_length=64)
    phone = forms.CharField(label=_("办公电话"), max_length=32, required=False, validators=[phone_validator])
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, required=False)


class PostForm(_Form):
    name = forms.CharField(label=_("岗位名称"), max_length=64)
    department = forms.ModelChoiceField(
        label=_("所属科室"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("（不属于科室）"),
    )
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, required=False)

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(unit=unit)  # type: ignore[attr-defined]


class PasswordChoiceMixin(forms.Form):
    """Either a generated initial password (shown once) or one the administrator types."""

    password_mode = forms.ChoiceField(
        label=_("初始密码"),
        choices=[("generate", _("系统生成（仅显示一次）")), ("set", _("由管理员设置"))],
        initial="generate",
        widget=forms.RadioSelect,
    )
    password1 = forms.CharField(
        label=_("密码"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password_mode") == "set":
            if not data.get("password1"):
                self.add_error("password1", _("请输入密码"))
            elif data.get("password1") != data.get("password2"):
                self.add_error("password2", _("两次输入的密码不一致"))
        return data


class StaffCreateForm(PasswordChoiceMixin, _Form):
    username = forms.CharField(label=_("用户名"), max_length=64, validators=[username_validator])
    name = forms.CharField(label=_("姓名"), max_length=64)
    post = forms.ModelChoiceField(label=_("岗位"), queryset=Post.objects.none())
    office_phone = forms.CharField(
        label=_("办公电话"), max_length=32, required=False, validators=[phone_validator]
    )
    mobile = forms.CharField(label=_("手机号"), max_length=11, required=False, validators=[mobile_validator])
    email = forms.EmailField(label=_("电子邮箱"), max_length=254, required=False)
    roles = forms.MultipleChoiceField(
        label=_("本单位角色"), choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )

    field_order = ["username", "name", "post", "office_phone", "mobile", "email", "roles"]

    def __init__(self, *args: Any, unit: Unit, grantable_roles: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = Post.objects.filter(unit=unit).select_related("unit")  # type: ignore[attr-defined]
        self.fields["post"].label_from_instance = lambda p: p.name  # type: ignore[attr-defined]
        if grantable_roles:
            self.fields["roles"].choices = grantable_roles  # type: ignore[attr-defined]
        else:
            del self.fields["roles"]


class StaffEditForm(_Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    office_phone = forms.CharField(
        label=_("办公电话"), max_length=32, required=False, validators=[phone_validator]
    )
    mobile = forms.CharField(label=_("手机号"), max_length=11, required=False, validators=[mobile_validator])
    email = forms.EmailField(label=_("电子邮箱"), max_length=254, required=False)


class PasswordResetForm(PasswordChoiceMixin, _Form):
    pass


class AssignPostForm(_Form):
    """Give a post to a person, also one whose own unit is another (兼职)."""

    username = forms.CharField(label=_("人员用户名"), max_length=64)
    post = forms.ModelChoiceField(label=_("岗位"), queryset=Post.objects.none())

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = Post.objects.filter(unit=unit)  # type: ignore[attr-defined]
        self.fields["post"].label_from_instance = lambda p: p.name  # type: ignore[attr-defined]

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username__iexact=username, kind=AccountKind.STAFF, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("没有找到该用户名的在职工作人员"))
        return user


class RoleChangeForm(_Form):
    op = forms.ChoiceField(choices=[("grant", _("授予")), ("revoke", _("撤销"))])
    role = forms.ChoiceField(label=_("角色"), choices=UnitRoleKind.choices)


class ActiveForm(_Form):
    active = forms.TypedChoiceField(
        choices=[("1", _("启用")), ("0", _("停用"))], coerce=lambda v: v == "1", empty_value=None
    )


# --- Platform administration ------------------------------------------------------------------------
def _region_by_code(code: str) -> Region:
    region = Region.objects.filter(code=code.strip()).first()
    if region is None:
        raise forms.ValidationError(_("没有找到该区划代码"))
    return region


def _unit_by_code(code: str) -> Unit:
    unit = Unit.objects.filter(code=code.strip()).first()
    if unit is None:
        raise forms.ValidationError(_("没有找到单位代码 %(code)s") % {"code": code.strip()[:32]})
    return unit


class UnitEditForm(_Form):
    """What a unit's own admin may change; the system admin also sees name, kind."""

    name = forms.CharField(label=_("名称"), max_length=128)
    short_name = forms.CharField(label=_("简称"), max_length=32, required=False)
    kind = forms.ChoiceField(label=_("类别"), choices=UnitKind.choices)
    phone = forms.CharField(label=_("办公电话"), max_length=32, required=False, validators=[phone_validator])
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    receives_paper = forms.BooleanField(label=_("仍接收纸质文件（双轨制）"), required=False)
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=1000000, required=False)

    def __init__(self, *args: Any, full: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not full:
            del self.fields["kind"]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("sort") is None:
            data.pop("sort", None)
        return data


class UnitCreateForm(_Form):
    code = forms.CharField(label=_("单位代码"), max_length=32, validators=[code_validator])
    name = forms.CharField(label=_("名称"), max_length=128)
    short_name = forms.CharField(label=_("简称"), max_length=32, required=False)
    kind = forms.ChoiceField(label=_("类别"), choices=UnitKind.choices)
    region = forms.CharField(label=_("所在区划代码"), max_length=12)
    parent = forms.CharField(label=_("上级单位代码"), max_length=32, required=False)
    phone = forms.CharField(label=_("办公电话"), max_length=32, required=False, validators=[phone_validator])
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    receives_paper = forms.BooleanField(label=_("仍接收纸质文件（双轨制）"), required=False)
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=1000000, required=False)

    def clean_region(self) -> Region:
        return _region_by_code(self.cleaned_data["region"])

    def clean_parent(self) -> Unit | None:
        code = self.cleaned_data.get("parent", "").strip()
        return _unit_by_code(code) if code else None


class UnitGroupForm(_Form):
    code = forms.SlugField(label=_("分组代码"), max_length=64)
    name = forms.CharField(label=_("名称"), max_length=64)
    match_all = forms.BooleanField(label=_("全部单位"), required=False)
    kinds = forms.MultipleChoiceField(
        label=_("单位类别"), choices=UnitKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(
        label=_("层级"), choices=[("", _("不限")), *RegionLevel.choices], required=False
    )
    within = forms.CharField(label=_("区划范围（区划代码，含下级）"), max_length=12, required=False)
    extra_units = forms.CharField(
        label=_("另加单位（单位代码，每行一个）"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, required=False)

    def clean_within(self) -> Region | None:
        code = self.cleaned_data.get("within", "").strip()
        return _region_by_code(code) if code else None

    def clean_extra_units(self) -> list[Unit]:
        codes = [c for c in re.split(r"[\s,，;；]+", self.cleaned_data.get("extra_units", "")) if c]
        if len(codes) > 1000:
            raise forms.ValidationError(_("另加单位最多 1000 个"))
        found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise forms.ValidationError(
                _("没有找到这些单位代码：%(codes)s") % {"codes": "、".join(missing[:10])[:300]}
            )
        return list(found.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not (
            data.get("match_all")
            or data.get("kinds")
            or data.get("level")
            or data.get("within")
            or data.get("extra_units")
        ):
            raise forms.ValidationError(_("请至少设置一个条件，或勾选“全部单位”"))
        return data

    def group_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "name": data["name"],
            "kinds": list(data.get("kinds") or []),
            "level": data.get("level") or "",
            "within": data.get("within"),
            "match_all": bool(data.get("match_all")),
            "sort": data.get("sort") or 0,
        }


class PlatformRoleForm(_Form):
    role = forms.ChoiceField(label=_("平台管理角色"), choices=PlatformRole.choices, required=False)


class UnitRoleGrantForm(_Form):
    op = forms.ChoiceField(choices=[("grant", _("授予")), ("revoke", _("撤销"))])
    unit = forms.CharField(label=_("单位代码"), max_length=32)
    role = forms.ChoiceField(label=_("角色"), choices=UnitRoleKind.choices)

    def clean_unit(self) -> Unit:
        return _unit_by_code(self.cleaned_data["unit"])


class SearchForm(_Form):
    q = forms.CharField(required=False, max_length=64)


# --- Address book ------------------------------------------------------------------------------------
class AddressBookForm(_Form):
    q = forms.CharField(label=_("单位名称"), required=False, max_length=64)
    person = forms.CharField(label=_("姓名"), required=False, max_length=64)
    kind = forms.ChoiceField(label=_("类别"), choices=[("", _("全部")), *UnitKind.choices], required=False)
    region = forms.CharField(label=_("区划"), required=False, max_length=12)

    def clean_region(self) -> Region | None:
        code = self.cleaned_data.get("region", "").strip()
        return _region_by_code(code) if code else None


# --- The trail's filters -----------------------------------------------------------------------------
_DATE_FORMATS = ("%Y-%m-%d",)
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _parse_moment(value: str, *, end: bool) -> dt.datetime | None:
    """A date (the whole day) or a date and time; None if neither."""
    value = value.strip()
    tz = timezone.get_current_timezone()
    for fmt in _DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
        return day + dt.timedelta(days=1) if end else day
    return None


class AuditFilterForm(_Form):
    """Filters of the trail. Every value is checked: a bad one gets a message, never a server error."""

    person = forms.CharField(label=_("人员姓名"), required=False, max_length=64)
    actor = forms.CharField(label=_("人员ID"), required=False, max_length=20)
    unit_name = forms.CharField(label=_("单位名称"), required=False, max_length=128)
    unit = forms.CharField(label=_("单位ID"), required=False, max_length=20)
    subunits = forms.BooleanField(label=_("含下级单位"), required=False)
    action = forms.CharField(label=_("操作"), required=False, max_length=64)
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=64)
    object_id = forms.CharField(label=_("对象ID"), required=False, max_length=64)
    since = forms.CharField(label=_("开始时间"), required=False, max_length=19)
    until = forms.CharField(label=_("结束时间"), required=False, max_length=19)

    def _id(self, name: str) -> int | None:
        raw = self.cleaned_data.get(name, "").strip()
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 18:
            raise forms.ValidationError(_("请输入数字编号"))
        return int(raw)

    def clean_actor(self) -> int | None:
        return self._id("actor")

    def clean_unit(self) -> int | None:
        return self._id("unit")

    def clean_action(self) -> str:
        value = self.cleaned_data.get("action", "").strip()
        if value and not re.fullmatch(r"[A-Za-z0-9_.\-]+", value):
            raise forms.ValidationError(_("操作名称只能包含字母、数字和 . _ -"))
        return value

    def _moment(self, name: str, *, end: bool) -> dt.datetime | None:
        raw = self.cleaned_data.get(name, "").strip()
        if not raw:
            return None
        moment = _parse_moment(raw, end=end)
        if moment is None:
            raise forms.ValidationError(_("时间格式不正确，请使用 2026-01-31 或 2026-01-31 08:30"))
        return moment

    def clean_since(self) -> dt.datetime | None:
        return self._moment("since", end=False)

    def clean_until(self) -> dt.datetime | None:
        return self._moment("until", end=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("结束时间须晚于开始时间"))
        return data

    def selector_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "person": d.get("person", "").strip(),
            "actor_id": d.get("actor"),
            "unit_name": d.get("unit_name", "").strip(),
            "unit_id": d.get("unit"),
            "subunits": bool(d.get("subunits")),
            "action": d.get("action", ""),
            "object_type": d.get("object_type", "").strip(),
            "object_id": d.get("object_id", "").strip(),
            "since": d.get("since"),
            "until": d.get("until"),
        }

    def summary(self) -> dict[str, Any]:
        """The filter as it was typed, for the export's own record in the trail."""
        return {k: v for k, v in self.data.items() if k in self.fields and v not in ("", None)}
