"""Sign-in events into the trail: success, failure, lockout, sign-out."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from zhengwu.core.audit import audit_context, audit_record
from zhengwu.core.middleware import client_ip


def _ctx(request: Any) -> dict[str, Any]:
    if request is None:
        return {}
    return {"ip": client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with audit_context(user=user, unit=user.primary_unit, **_ctx(request)):
        audit_record(action="auth.login", obj=user, after={"kind": user.kind})


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    with audit_context(user=user, unit=user.primary_unit, **_ctx(request)):
        audit_record(action="auth.logout", obj=user)


def _account(username: str) -> Any:
    from zhengwu.core.models import User

    return User.objects.filter(username=username).select_related("primary_unit").first() if username else None


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The sign-in forms pass the account's username (public sign-in resolves a phone number or e-mail
    # address first, and masks one that matches no account), so no plain personal data lands here.
    username = str(credentials.get("username", ""))[:64]
    account = _account(username)
    with audit_context(unit=getattr(account, "primary_unit", None), **_ctx(request)):
        audit_record(
            action="auth.login_failed",
            object_type="core.user",
            object_id=account.pk if account is not None else "",
            object_label=username,
            after={"username": username, "page": getattr(request, "path", "")[:100]},
        )


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any = None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
    username = str(username or "")[:64]
    account = _account(username)
    with audit_context(unit=getattr(account, "primary_unit", None), **_ctx(request)):
        audit_record(
            action="auth.locked_out",
            object_type="core.user",
            object_id=account.pk if account is not None else "",
            object_label=username,
            after={"username": username, "ip": ip_address},
        )
