"""Sign-in pages for staff and the public, account security, lockouts, and the OIDC provider's pages.

Every form that fails answers 400 (429 for a refused code send, 403 for a lockout) with the reasons in
Chinese, and writes nothing.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView

from zhengwu.core import access
from zhengwu.core.audit import audit_record
from zhengwu.core.middleware import client_ip
from zhengwu.core.models import User
from zhengwu.identity import selectors, services
from zhengwu.identity.forms import (
    AccountPasswordChangeForm,
    CodeRequestForm,
    OidcClientForm,
    OtpTokenForm,
    PasswordResetForm,
    PublicLoginForm,
    RegisterForm,
    StaffLoginForm,
    UnlockForm,
)
from zhengwu.identity.middleware import IDLE_FLAG
from zhengwu.identity.models import CodePurpose

BACKEND = "zhengwu.identity.backends.AccountBackend"


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _posted(request: HttpRequest) -> Any:
    """The POST data of a POST (even an empty one, so its form is bound and says what is missing)."""
    return request.POST if request.method == "POST" else None


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.GET.get("next") or request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return nxt
    return default


def _home_for(user: Any) -> str:
    return reverse("workbench:home") if access.is_staff_user(user) else reverse("identity:public_account")


def _staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff pages of this app: anonymous → staff sign-in; a public account → 403."""
    return access.staff_required(view)


def _public_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Public-account pages: anonymous → public sign-in; a staff account → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            login_url = reverse("identity:public_login")
            return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        if access.is_staff_user(request.user):
            raise PermissionDenied(_("此页面仅限公众和企业账号使用。"))
        return view(request, *args, **kwargs)

    return wrapper


# --- Sign-in and sign-out -------------------------------------------------------------------------


class _LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signed_out_idle"] = self.request.session.pop(IDLE_FLAG, False)
        return context

    def get_default_redirect_url(self) -> str:
        # After sign-in, or when someone already signed in opens a sign-in page: their own home.
        return _home_for(self.request.user)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class StaffLoginView(_LoginView):
    """工作人员登录."""

    template_name = "identity/login.html"
    authentication_form = StaffLoginForm


class PublicLoginView(_LoginView):
    """公众登录: phone number, e-mail address or username, and password."""

    template_name = "identity/public_login.html"
    authentication_form = PublicLoginForm


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """退出所有设备: every session of this account ends, this one included."""
    user = _account(request)
    staff = access.is_staff_user(user)
    services.sign_out_everywhere(user=user)
    logout(request)
    messages.success(request, _("已在所有设备上退出登录。"))
    return redirect("identity:login" if staff else "identity:public_login")


# --- Second factor (动态口令) ------------------------------------------------------------------------


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@_staff_only
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Bind a TOTP authenticator: show the QR code, confirm with one code."""
    import qrcode
    import qrcode.image.svg

    user = _account(request)
    if _confirmed_device(user) is not None:
        if not user.is_verified():  # type: ignore[attr-defined]
            # A bound account must pass its own authenticator before it may bind another one.
            return redirect(
                f"{reverse('identity:otp_verify')}?{urlencode({'next': _safe_next(request, '')})}"
            )
        messages.info(request, _("动态口令已绑定。"))
        return redirect("identity:account_security")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("动态口令"), confirmed=False)
    form = OtpTokenForm(_posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["token"]):
            services.otp_device_confirm(user=user, device=device)
            otp_login(request, device)
            messages.success(request, _("动态口令已绑定，以后每次登录都需输入动态口令。"))
            return redirect(_safe_next(request, reverse("identity:account_security")))
        if form.is_valid():
            form.add_error("token", _("动态口令不正确，请核对手机时间后重试。"))
        status = 400
    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    context = {
        "form": form,
        "qr": base64.b64encode(buf.getvalue()).decode(),
        "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
        "next": _safe_next(request, ""),
        "mandatory": access.is_platform_admin(user),
    }
    return render(request, "identity/otp_setup.html", context, status=status)


@_staff_only
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = _account(request)
    if _confirmed_device(user) is None:
        return redirect(f"{reverse('identity:otp_setup')}?{urlencode({'next': _safe_next(request, '')})}")
    form = OtpTokenForm(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            for device in TOTPDevice.objects.filter(user=user, confirmed=True):
                if device.verify_token(form.cleaned_data["token"]):
                    otp_login(request, device)
                    audit_record(action="auth.otp_ok", obj=user, actor=user, unit=user.primary_unit)
                    return redirect(_safe_next(request, reverse("workbench:home")))
            audit_record(action="auth.otp_failed", obj=user, actor=user, unit=user.primary_unit)
            form.add_error("token", _("动态口令不正确，请核对手机时间后重试。"))
    return render(
        request, "identity/otp_verify.html", {"form": form, "next": _safe_next(request, "")}, status=status
    )


@_staff_only
@require_POST
def otp_disable(request: HttpRequest) -> HttpResponse:
    """停用动态口令 (staff who opted in), confirmed with a current code."""
    user = _account(request)
    form = OtpTokenForm(request.POST)
    device = _confirmed_device(user)
    if access.is_platform_admin(user):
        raise PermissionDenied(_("平台管理员必须使用动态口令，不能停用。"))
    if device is None:
        messages.info(request, _("尚未绑定动态口令。"))
        return redirect("identity:account_security")
    if not form.is_valid() or not device.verify_token(form.cleaned_data["token"]):
        if form.is_valid():
            form.add_error("token", _("动态口令不正确，请核对手机时间后重试。"))
        return _render_security(request, disable_form=form, status=400)
    services.otp_disable(user=user)
    messages.success(request, _("动态口令已停用。"))
    return redirect("identity:account_security")


# --- Account security (账号安全) ---------------------------------------------------------------------


def _render_security(
    request: HttpRequest, *, disable_form: OtpTokenForm | None = None, status: int = 200
) -> HttpResponse:
    user = _account(request)
    return render(
        request,
        "identity/account_security.html",
        {
            "has_otp": _confirmed_device(user) is not None,
            "otp_mandatory": access.is_platform_admin(user),
            "disable_form": disable_form or OtpTokenForm(),
            "events": selectors.recent_sign_in_events(user),
        },
        status=status,
    )


@_staff_only
def account_security(request: HttpRequest) -> HttpResponse:
    """账号安全: second factor, password, sign-out everywhere, recent sign-ins."""
    return _render_security(request)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """修改密码 for any account: old password, the new one checked against the policy; other sessions end."""
    user = _account(request)
    form = AccountPasswordChangeForm(user, _posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = services.password_change(user=user, new_password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)  # this session stays; the others end
            messages.success(request, _("密码已修改，其他设备上的登录已失效。"))
            staff = access.is_staff_user(user)
            return redirect("identity:account_security" if staff else "identity:public_account")
        if "old_password" in form.errors and form.cleaned_data.get("new_password1") is not None:
            audit_record(action="auth.password_change_failed", obj=user, actor=user, unit=user.primary_unit)
        status = 400
    template = "identity/password_change.html"
    return render(request, template, {"form": form, "public": user.is_public_account}, status=status)


# --- Lockouts (账号锁定) ----------------------------------------------------------------------------


@access.role_required(access.is_security_admin)
def lockouts(request: HttpRequest) -> HttpResponse:
    """锁定账号: the security admin sees locked accounts and lifts a lock (audited)."""
    status = 200
    form = UnlockForm(_posted(request))
    if request.method == "POST":
        if form.is_valid():
            username = form.cleaned_data["username"]
            try:
                services.account_unlock(actor=request.user, username=username)
            except ValidationError as exc:
                form.add_error("username", exc)
            else:
                messages.success(request, _("账号 %(u)s 已解除锁定。") % {"u": username})
                return redirect("identity:lockouts")
        status = 400
    return render(
        request,
        "identity/lockouts.html",
        {"locked": selectors.locked_accounts(), "form": form},
        status=status,
    )


# --- Public accounts (公众/企业账号) ---------------------------------------------------------------------


def _send_code(request: HttpRequest, purpose: str) -> tuple[dict[str, Any], int]:
    """Handle “获取验证码” on the register and reset pages: (context for the page, HTTP status)."""
    form = CodeRequestForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for e in form.errors.get("contact", [])]
        return {"code_error": " ".join(errors) or _("请输入手机号或电子邮箱。")}, 400
    contact = form.cleaned_data["contact"]
    try:
        services.verification_code_send(contact=contact, purpose=purpose, ip=client_ip(request))
    except services.CodeRefused as exc:
        return {"code_error": exc.message}, exc.status
    if purpose == CodePurpose.RESET_PASSWORD:
        notice = _("如该%(label)s已注册，验证码已发送至 %(masked)s，10 分钟内有效。")
    else:
        notice = _("验证码已发送至 %(masked)s，10 分钟内有效。")
    return {"code_notice": notice % {"label": contact.label, "masked": contact.masked}}, 200


def _keep(request: HttpRequest, *names: str) -> dict[str, str]:
    """The visitor's own entries, kept on the page after “获取验证码” (never passwords or codes)."""
    return {name: request.POST.get(name, "")[:300] for name in names if request.POST.get(name)}


def _signed_in_elsewhere(request: HttpRequest) -> HttpResponse | None:
    if request.user.is_authenticated:
        return redirect(_home_for(request.user))
    return None


def public_register(request: HttpRequest) -> HttpResponse:
    """公众/企业注册 with a phone number or e-mail address and a verification code."""
    if (response := _signed_in_elsewhere(request)) is not None:
        return response
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "send":
        context, status = _send_code(request, CodePurpose.REGISTER)
        form = RegisterForm(initial=_keep(request, "kind", "name", "contact"))
    else:
        form = RegisterForm(_posted(request))
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    user = services.public_account_register(
                        kind=data["kind"],
                        name=data["name"],
                        contact=data["contact"],
                        code=data["code"],
                        password=data["password"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    login(request, user, backend=BACKEND)
                    messages.success(
                        request,
                        _("注册成功。您的用户名是 %(u)s，也可用注册时的%(label)s登录。")
                        % {"u": user.username, "label": data["contact"].label},
                    )
                    return redirect("identity:public_account")
    context["form"] = form
    return render(request, "identity/public_register.html", context, status=status)


def public_password_reset(request: HttpRequest) -> HttpResponse:
    """找回密码 for public accounts: a code to the registered phone or mailbox, then a new password."""
    if (response := _signed_in_elsewhere(request)) is not None:
        return response
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "send":
        context, status = _send_code(request, CodePurpose.RESET_PASSWORD)
        form = PasswordResetForm(initial=_keep(request, "contact"))
    else:
        form = PasswordResetForm(_posted(request))
        if request.method == "POST":
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.public_password_reset(
                        contact=data["contact"], code=data["code"], password=data["password"]
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("密码已重设，请用新密码登录。"))
                    return redirect("identity:public_login")
    context["form"] = form
    return render(request, "identity/public_password_reset.html", context, status=status)


@_public_only
def public_account(request: HttpRequest) -> HttpResponse:
    """我的账号: who I am, masked contacts, password and sign-out everywhere."""
    return render(request, "identity/public_account.html", {"account": _account(request)})


# --- OIDC provider --------------------------------------------------------------------------------


class StaffAuthorizationView(AuthorizationView):
    """授权登录: the consent screen, in Chinese; only staff accounts may sign in to other systems."""

    template_name = "identity/oidc_authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not access.is_staff_user(request.user):
            return render(request, "identity/oidc_refused.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The toolkit refuses a "plain" PKCE challenge only when issuing the code, after the consent
        # screen; refuse it before the staff member is asked anything.
        if request.GET.get("code_challenge_method", "S256") != "S256":
            error = {"error": "invalid_request", "description": "code_challenge_method must be S256"}
            return render(request, self.template_name, {"error": error}, status=400)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["account"] = self.request.user
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        if form.cleaned_data.get("allow") and response.status_code in (301, 302):
            application = (
                get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).first()
            )
            if application is not None:
                services.oidc_consent_record(
                    user=_account(self.request), application=application, scopes=form.cleaned_data["scope"]
                )
        return response


def _client_or_404(pk: Any) -> Any:
    try:
        return get_application_model().objects.get(pk=int(pk))
    except (ValueError, TypeError, get_application_model().DoesNotExist):
        raise Http404(_("接入系统不存在")) from None


system_admin_only = access.role_required(access.is_system_admin)


@system_admin_only
def oidc_client_list(request: HttpRequest) -> HttpResponse:
    """接入系统: the OIDC clients registered with the platform."""
    return render(request, "identity/oidc_client_list.html", {"clients": selectors.oidc_clients()})


def _secret_page(request: HttpRequest, result: services.ClientWithSecret, *, status: int) -> HttpResponse:
    response = render(
        request,
        "identity/oidc_client_secret.html",
        {"client": result.application, "secret": result.secret},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@system_admin_only
def oidc_client_create(request: HttpRequest) -> HttpResponse:
    form = OidcClientForm(_posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.oidc_client_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                # The secret is shown on this one response and never again (it is stored hashed).
                return _secret_page(request, result, status=201)
        return render(request, "identity/oidc_client_form.html", {"form": form}, status=400)
    return render(request, "identity/oidc_client_form.html", {"form": form})


@system_admin_only
def oidc_client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    base = request.build_absolute_uri("/o/")
    return render(request, "identity/oidc_client_detail.html", {"client": client, "issuer": base.rstrip("/")})


@system_admin_only
def oidc_client_update(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    initial = {
        "name": client.name,
        "client_type": client.client_type,
        "redirect_uris": "\n".join(client.redirect_uris.split()),
        "post_logout_redirect_uris": "\n".join(client.post_logout_redirect_uris.split()),
        "skip_authorization": client.skip_authorization,
    }
    form = OidcClientForm(_posted(request), initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.oidc_client_update(actor=request.user, application=client, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("接入系统已保存。"))
                return redirect("oauth2_provider:detail", pk=client.pk)
        return render(request, "identity/oidc_client_form.html", {"form": form, "client": client}, status=400)
    return render(request, "identity/oidc_client_form.html", {"form": form, "client": client})


@system_admin_only
def oidc_client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    if request.method == "POST":
        services.oidc_client_delete(actor=request.user, application=client)
        messages.success(request, _("接入系统“%(n)s”已删除。") % {"n": client.name})
        return redirect("oauth2_provider:list")
    return render(request, "identity/oidc_client_delete.html", {"client": client})


@system_admin_only
@require_POST
def oidc_client_reset_secret(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    return _secret_page(
        request, services.oidc_client_reset_secret(actor=request.user, application=client), status=200
    )


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The answer to a sign-in attempt on a locked account (AXES_LOCKOUT_CALLABLE): 429, in Chinese."""
    from django.conf import settings

    public = request.path.startswith(reverse("identity:public_login"))
    context = {
        "minutes": round(float(settings.AXES_COOLOFF_TIME) * 60),
        "limit": settings.AXES_FAILURE_LIMIT,
        "public": public,
    }
    return render(request, "identity/locked_out.html", context, status=429)
