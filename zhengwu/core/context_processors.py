from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from zhengwu.core import access


def platform(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "zw_is_staff": access.is_staff_user(user),
        "zw_is_system_admin": access.is_system_admin(user),
        "zw_is_security_admin": access.is_security_admin(user),
        "zw_is_audit_admin": access.is_audit_admin(user),
        "zw_can_view_audit": access.can_view_audit(user),
    }
