from __future__ import annotations

import base64
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengwu.core.audit import audit_record
from zhengwu.core.models import User
from zhengwu.identity.forms import OtpTokenForm, PublicLoginForm, StaffLoginForm


class StaffLoginView(auth_views.LoginView):
    template_name = "identity/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


class PublicLoginView(auth_views.LoginView):
    template_name = "identity/public_login.html"
    authentication_form = PublicLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/"


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """退出所有设备: rotating the salt invalidates every session hash of this account at once."""
    from oauth2_provider.models import AccessToken, RefreshToken

    from zhengwu.core.models import _new_salt

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=request.user.pk or 0)
        user.session_salt = _new_salt()
        user.save(update_fields=["session_salt"])
        AccessToken.objects.filter(user=user).delete()
        RefreshToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now())
        audit_record(action="auth.logout_everywhere", obj=user, actor=user)
    logout(request)
    messages.success(request, _("已在所有设备上退出登录。"))
    return redirect("identity:login")


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _safe_next(request: HttpRequest, default: str = "/workbench/") -> str:
    nxt = request.GET.get("next") or request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return nxt
    return default


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Bind a TOTP authenticator: show the QR code, confirm with one code."""
    import qrcode
    import qrcode.image.svg

    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        if (
            TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
            and not request.user.is_verified()  # type: ignore[attr-defined]
        ):
            return redirect("identity:otp_verify")
        device = TOTPDevice.objects.create(user=request.user, name=_("动态口令"), confirmed=False)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit_record(action="auth.otp_bind", obj=_account(request))
            otp_login(request, device)
            messages.success(request, _("动态口令已绑定。"))
            return redirect(_safe_next(request))
        form.add_error("token", _("动态口令不正确，请重试。"))
    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    qr = base64.b64encode(buf.getvalue()).decode()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "identity/otp_setup.html", {"form": form, "qr": qr, "secret": secret})


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                audit_record(action="auth.otp_ok", obj=_account(request))
                return redirect(_safe_next(request))
        audit_record(action="auth.otp_failed", obj=_account(request))
        form.add_error("token", _("动态口令不正确，请重试。"))
    return render(request, "identity/otp_verify.html", {"form": form})


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return render(request, "identity/locked_out.html", status=403)
