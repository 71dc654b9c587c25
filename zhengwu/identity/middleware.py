"""Session rules for staff: idle timeout, and the second factor platform administrators must pass."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from zhengwu.core.audit import audit_record


class IdleTimeoutMiddleware:
    """Signs a session out after IDLE_TIMEOUT_SECONDS without a request (会话空闲超时)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("zw_last_seen")
            if last is not None and now - int(last) > settings.IDLE_TIMEOUT_SECONDS:
                user = request.user
                logout(request)
                audit_record(action="auth.idle_timeout", obj=user, actor=user)
                messages.info(request, _("您已长时间未操作，请重新登录。"))
                return redirect(f"{reverse('identity:login')}?next={request.path}")
            # Write the timestamp at most once a minute, so reads do not turn into session writes.
            if last is None or now - int(last) >= 60:
                request.session["zw_last_seen"] = now
        return self.get_response(request)


EXEMPT_PREFIXES = ("/accounts/", "/static/", "/o/", "/i18n/", "/healthz")


class RequireSecondFactorMiddleware:
    """Platform administrators must pass TOTP (动态口令) before anything else; others may opt in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            from django_otp import user_has_device

            needs = bool(getattr(user, "platform_role", "")) or user_has_device(user)
            if needs and not user.is_verified():  # type: ignore[attr-defined]
                if user_has_device(user):
                    return redirect(f"{reverse('identity:otp_verify')}?next={request.path}")
                return redirect(reverse("identity:otp_setup"))
        return self.get_response(request)
