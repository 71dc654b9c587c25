"""Sign-in and account forms. Every field has a length limit and a Chinese message for bad input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UsernameField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import AccountKind
from zhengwu.identity import selectors
from zhengwu.identity.backends import PUBLIC_SCOPE, STAFF_SCOPE
from zhengwu.identity.contacts import MAX_EMAIL_LENGTH, Contact, parse_contact
from zhengwu.identity.services import MAX_PASSWORD_LENGTH


def _lockout_hint() -> str:
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return str(_("连续失败 %(n)d 次账号将被锁定 %(m)d 分钟。")) % {
        "n": settings.AXES_FAILURE_LIMIT,
        "m": minutes,
    }


def _password_field(label: Any, *, autocomplete: str = "current-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MAX_PASSWORD_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _masked_identifier(identifier: str) -> str:
    """What the lockout and the trail record for an identifier that matches no public account: a phone
    number or e-mail address only masked, anything else (a username) as typed."""
    try:
        contact = parse_contact(identifier)
    except ValidationError:
        return identifier.strip()[:64]
    return contact.masked[:64]


class StaffLoginForm(AuthenticationForm):
    """Staff sign-in (工作人员登录): only staff accounts; public accounts get the same answer as a wrong
    password plus a pointer to the public sign-in."""

    username = UsernameField(
        label=_("用户名"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = _password_field(_("密码"))

    error_messages = {
        "invalid_login": _("用户名或密码不正确。公众和企业用户请从公众登录入口登录。"),
        "inactive": _("该账号已停用，请联系单位管理员。"),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(
                self.request, username=username, password=password, scope=STAFF_SCOPE
            )
            if self.user_cache is None:
                raise ValidationError(
                    f"{self.error_messages['invalid_login']}{_lockout_hint()}", code="invalid_login"
                )
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class PublicLoginForm(AuthenticationForm):
    """Public sign-in (公众登录) with a phone number, an e-mail address or the username."""

    username = forms.CharField(
        label=_("手机号 / 电子邮箱 / 用户名"),
        max_length=MAX_EMAIL_LENGTH,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = _password_field(_("密码"))

    error_messages = {
        "invalid_login": _("账号或密码不正确。工作人员请从工作人员登录入口登录。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        # AuthenticationForm sizes the field to the username column; e-mail addresses run longer.
        self.fields["username"].max_length = MAX_EMAIL_LENGTH  # type: ignore[attr-defined]
        self.fields["username"].widget.attrs["maxlength"] = str(MAX_EMAIL_LENGTH)

    def clean(self) -> dict[str, Any]:
        identifier = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if identifier is not None and password:
            account = selectors.public_account_by_identifier(identifier)
            # Lockout and the trail key on the account's username whichever identifier was typed, so a
            # phone number and an e-mail address do not each get five tries. An identifier that matches
            # no public account is recorded only in masked form.
            key = account.username if account is not None else _masked_identifier(identifier)
            self.user_cache = authenticate(self.request, username=key, password=password, scope=PUBLIC_SCOPE)
            if self.user_cache is None:
                raise ValidationError(
                    f"{self.error_messages['invalid_login']}{_lockout_hint()}", code="invalid_login"
                )
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


digits_only = RegexValidator(r"^\d+$", _("请输入数字。"))


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态口令"),
        max_length=8,
        min_length=6,
        validators=[digits_only],
        error_messages={
            "required": _("请输入动态口令。"),
            "max_length": _("动态口令为 6 位数字。"),
            "min_length": _("动态口令为 6 位数字。"),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ContactField(forms.CharField):
    """手机号或电子邮箱, cleaned into a Contact."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("手机号或电子邮箱"))
        kwargs.setdefault("max_length", MAX_EMAIL_LENGTH)
        kwargs.setdefault("error_messages", {"required": _("请输入手机号或电子邮箱。")})
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "username"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Contact:  # type: ignore[override]
        text = super().clean(value)
        return parse_contact(text)


class CodeRequestForm(forms.Form):
    """获取验证码: only the phone number or e-mail address."""

    contact = ContactField()


code_field_kwargs: dict[str, Any] = {
    "label": _("验证码"),
    "max_length": 6,
    "min_length": 6,
    "validators": [digits_only],
    "error_messages": {
        "required": _("请输入验证码。"),
        "max_length": _("验证码为 6 位数字。"),
        "min_length": _("验证码为 6 位数字。"),
    },
    "widget": forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
}


class RegisterForm(forms.Form):
    """公众/企业注册."""

    kind = forms.ChoiceField(
        label=_("账号类型"),
        choices=[(AccountKind.CITIZEN, _("个人")), (AccountKind.ENTERPRISE, _("企业"))],
        widget=forms.RadioSelect,
        initial=AccountKind.CITIZEN,
        error_messages={"required": _("请选择账号类型。"), "invalid_choice": _("请选择账号类型。")},
    )
    name = forms.CharField(
        label=_("姓名或企业名称"),
        max_length=64,
        error_messages={"required": _("请填写姓名或企业名称。")},
    )
    contact = ContactField()
    code = forms.CharField(**code_field_kwargs)
    password = _password_field(_("密码"), autocomplete="new-password")
    password2 = _password_field(_("再次输入密码"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class PasswordResetForm(forms.Form):
    """找回密码."""

    contact = ContactField()
    code = forms.CharField(**code_field_kwargs)
    password = _password_field(_("新密码"), autocomplete="new-password")
    password2 = _password_field(_("再次输入新密码"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class AccountPasswordChangeForm(PasswordChangeForm):
    """修改密码: the old password, then the new one twice, checked against the password policy."""

    old_password = _password_field(_("原密码"))
    new_password1 = _password_field(_("新密码"), autocomplete="new-password")
    new_password2 = _password_field(_("再次输入新密码"), autocomplete="new-password")

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("原密码不正确。"),
        "password_mismatch": _("两次输入的新密码不一致。"),
    }

    def clean_new_password1(self) -> str:
        new = self.cleaned_data.get("new_password1", "")
        if new and new == self.cleaned_data.get("old_password"):
            raise ValidationError(_("新密码不能与原密码相同。"))
        return new


class UnlockForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=64)


class OidcClientForm(forms.Form):
    """登记接入系统 (an OIDC client)."""

    name = forms.CharField(label=_("系统名称"), max_length=255)
    client_type = forms.ChoiceField(
        label=_("客户端类型"),
        choices=[
            ("confidential", _("机密客户端（有服务器端，持有密钥）")),
            ("public", _("公开客户端（单页应用或移动应用，仅用 PKCE）")),
        ],
        initial="confidential",
    )
    redirect_uris = forms.CharField(
        label=_("回调地址"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个，须为完整地址，例如 https://spxt.example.gov.cn/oidc/callback"),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("退出后返回地址"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一个，可不填。"),
    )
    skip_authorization = forms.BooleanField(label=_("本平台内部系统，登录时不再询问授权"), required=False)

    def _clean_uris(self, field: str) -> str:
        from urllib.parse import urlsplit

        provider: dict[str, Any] = settings.OAUTH2_PROVIDER
        schemes: list[str] = list(provider.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"]))
        uris = [line.strip() for line in self.cleaned_data.get(field, "").split() if line.strip()]
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in schemes or not parts.netloc:
                raise ValidationError(
                    _("地址“%(uri)s”不正确：须以 %(schemes)s:// 开头的完整地址。")
                    % {"uri": uri[:100], "schemes": " / ".join(schemes)}
                )
            if parts.fragment:
                raise ValidationError(_("地址“%(uri)s”不能包含 # 片段。") % {"uri": uri[:100]})
        return " ".join(uris)

    def clean_redirect_uris(self) -> str:
        value = self._clean_uris("redirect_uris")
        if not value:
            raise ValidationError(_("请至少填写一个回调地址。"))
        return value

    def clean_post_logout_redirect_uris(self) -> str:
        return self._clean_uris("post_logout_redirect_uris")
