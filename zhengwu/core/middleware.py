from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from zhengwu.core.audit import audit_context


def client_ip(request: HttpRequest) -> str:
    from django.conf import settings

    if getattr(settings, "AXES_IPWARE_PROXY_COUNT", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    """Binds who and from where for every trail record written while handling the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        unit = getattr(user, "primary_unit", None) if user is not None else None
        with audit_context(
            user=user,
            unit=unit,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
        ):
            return self.get_response(request)
