"""Session rules: idle timeout for every account, and the second factor for staff who have one (and for
platform administrators, who must)."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from zhengwu.core import access
from zhengwu.core.audit import audit_context, audit_record
from zhengwu.core.middleware import client_ip

IDLE_FLAG = "zw_signed_out_idle"


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


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
                staff = access.is_staff_user(user)
                logout(request)
                with audit_context(
                    user=user,
                    unit=getattr(user, "primary_unit", None),
                    ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
                ):
                    audit_record(action="auth.idle_timeout", obj=user, actor=user)
                # The sign-in page tells why (messages are not available this early in the chain).
                request.session[IDLE_FLAG] = True
                login_url = reverse("identity:login" if staff else "identity:public_login")
                return redirect(_with_next(login_url, request))
            # Write the timestamp at most once a minute, so reads do not turn into session writes.
            if last is None or now - int(last) >= 60:
                request.session["zw_last_seen"] = now
        return self.get_response(request)


ALWAYS_OPEN_PREFIXES = ("/static/", "/i18n/", "/healthz")
# Pages a staff member who still owes the second factor may open: the factor itself and signing out.
OPEN_URL_NAMES = ("identity:otp_setup", "identity:otp_verify", "identity:logout", "identity:login")


class RequireSecondFactorMiddleware:
    """A staff session with a bound authenticator — and every platform administrator's session — must
    pass TOTP (动态口令) before any other page, the OIDC authorization endpoint included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(reverse(name) for name in OPEN_URL_NAMES)
        return self._open_paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            access.is_staff_user(user)
            and not request.path.startswith(ALWAYS_OPEN_PREFIXES)
            and request.path not in self.open_paths()
            and not user.is_verified()  # type: ignore[attr-defined]
        ):
            from django_otp import user_has_device

            has_device = user_has_device(user)
            if has_device:
                return redirect(_with_next(reverse("identity:otp_verify"), request))
            if access.is_platform_admin(user):
                return redirect(_with_next(reverse("identity:otp_setup"), request))
        return self.get_response(request)
