from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import AccountKind


class StaffLoginForm(AuthenticationForm):
    """Staff sign-in; public accounts are told to use the public sign-in instead."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败 5 次账号将被锁定 30 分钟。"),
        "inactive": _("该账号已停用，请联系单位管理员。"),
        "not_staff": _("这是公众账号，请从公众登录入口登录。"),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.kind != AccountKind.STAFF:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class PublicLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("账号或密码不正确。"),
        "inactive": _("该账号已停用。"),
        "not_public": _("工作人员请从工作人员登录入口登录。"),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.kind == AccountKind.STAFF:
            raise forms.ValidationError(self.error_messages["not_public"], code="not_public")


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态口令"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
