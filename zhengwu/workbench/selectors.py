"""What a staff member sees on the workbench; each module contributes by an explicit call here."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.notify.selectors import notices_for


def _modules(user: Any) -> list[dict[str, str]]:
    modules = [
        {"name": _("通讯录"), "url": reverse("core:address_book")},
    ]
    for unit_id in sorted(access.user_unit_ids(user)):
        modules.append({"name": _("本单位"), "url": reverse("core:unit_detail", args=[unit_id])})
        break
    if access.can_view_audit(user):
        modules.append({"name": _("留痕审计"), "url": reverse("core:audit_list")})
    if access.is_system_admin(user) or access.is_security_admin(user):
        modules.append({"name": _("平台管理"), "url": reverse("core:platform_home")})
    if access.is_system_admin(user):
        modules.append({"name": _("接入系统 (OIDC)"), "url": reverse("oauth2_provider:list")})
        modules.append({"name": _("短信邮件发送记录"), "url": reverse("notify:delivery_list")})
    if access.is_security_admin(user):
        modules.append({"name": _("锁定账号"), "url": reverse("identity:lockouts")})
    if access.is_system_admin(user) or access.is_audit_admin(user):
        modules.append({"name": _("工作日历"), "url": reverse("workdays:calendar")})
    from zhengwu.portal.access import sites_for

    if sites_for(user):  # editors, reviewers and leaders of a unit that runs a site (网站内容管理)
        modules.append({"name": _("网站内容管理"), "url": reverse("portal:cms_home")})
    modules.append({"name": _("期限计算器"), "url": reverse("workdays:explain")})
    modules.append({"name": _("待办已办"), "url": reverse("flow:tasks")})
    if access.user_unit_ids(user):  # 公文: the unit's inbox to sign, and its outgoing documents
        modules.append({"name": _("公文收文"), "url": reverse("documents:inbox")})
        modules.append({"name": _("公文发文"), "url": reverse("documents:index")})
        modules.append({"name": _("会议通知"), "url": reverse("meetings:list")})
        # 政务公开: the unit's disclosure requests, catalogue and annual report.
        modules.append({"name": _("政务公开"), "url": reverse("disclosure:manage")})
    modules.append({"name": _("办件流程"), "url": reverse("flow:instances")})
    modules.append({"name": _("委托代办"), "url": reverse("flow:delegations")})
    modules.append({"name": _("流程定义"), "url": reverse("flow:definitions")})
    modules.append({"name": _("示例办件"), "url": reverse("flow:sample_cases")})
    modules.append({"name": _("账号安全"), "url": reverse("identity:account_security")})
    return modules


def _posts(user: Any) -> list[dict[str, str]]:
    """The posts a staff member holds, primary first (one person may hold posts in two units)."""
    from zhengwu.core.models import PostAssignment

    rows = (
        PostAssignment.objects.filter(user=user)
        .select_related("post__unit")
        .order_by("-is_primary", "post__unit__name", "post__name")
    )
    return [{"unit": a.post.unit.name, "post": a.post.name} for a in rows]


def workbench_for(user: Any) -> dict[str, Any]:
    from zhengwu.flow import selectors as flow
    from zhengwu.meetings.selectors import invitations_to_register

    todo_qs = flow.todos_for(user)
    read_qs = flow.to_read_for(user)
    todos = list(todo_qs[:20])
    to_read = list(read_qs[:10])
    done = list(flow.done_for(user)[:10])
    notices = list(notices_for(user)[:10])
    register_qs = invitations_to_register(user)
    to_register = list(register_qs[:10])
    return {
        "todos": todos,
        "to_read": to_read,
        "done": done,
        "todo_count": todo_qs.count() if len(todos) == 20 else len(todos),
        "to_read_count": read_qs.count() if len(to_read) == 10 else len(to_read),
        "notices": notices,
        "to_register": to_register,
        "to_register_count": register_qs.count() if len(to_register) == 10 else len(to_register),
        "unread_notices": notices_for(user, unread_only=True).count(),
        "modules": _modules(user),
        "posts": _posts(user),
    }
