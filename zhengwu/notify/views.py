"""Pages: a person's own notices (我的消息) and the delivery record for platform system admins (发送记录)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengwu.core import access
from zhengwu.notify import selectors, services
from zhengwu.notify.models import Channel, DeliveryStatus


def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any signed-in account (staff or public) reads its own notices."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


@_signed_in
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    notices = selectors.notices_for(request.user, unread_only=unread_only)
    page = Paginator(notices, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread_count": selectors.notices_for(request.user, unread_only=True).count(),
        },
    )


@require_POST
@_signed_in
def notice_read(request: HttpRequest, notice_id: int) -> HttpResponse:
    try:
        notice = services.notice_mark_read(user=request.user, notice_id=notice_id)
    except ValidationError:
        raise Http404(_("通知不存在")) from None
    if (
        request.POST.get("open")
        and notice.url
        and url_has_allowed_host_and_scheme(notice.url, allowed_hosts={request.get_host()})
    ):
        return redirect(notice.url)
    return redirect("notify:inbox")


@require_POST
@_signed_in
def notices_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notices_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": count})
    return redirect("notify:inbox")


def _parse_date(raw: str, label: str, errors: list[str]) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(_("%(label)s不是有效日期（格式：2026-01-31）") % {"label": label})
        return None


@access.role_required(access.is_system_admin)
def delivery_list(request: HttpRequest) -> HttpResponse:
    """发送记录: every SMS and e-mail with its status, attempts and errors; addresses masked."""
    errors: list[str] = []
    channel = request.GET.get("channel", "")
    status = request.GET.get("status", "")
    if channel and channel not in Channel.values:
        errors.append(_("未知的发送渠道"))
        channel = ""
    if status and status not in DeliveryStatus.values:
        errors.append(_("未知的发送状态"))
        status = ""
    query = request.GET.get("q", "").strip()
    key = request.GET.get("key", "").strip()
    if len(query) > 64 or len(key) > 128:
        errors.append(_("查询条件过长"))
        query, key = query[:64], key[:128]
    since = _parse_date(request.GET.get("since", ""), _("开始日期"), errors)
    until = _parse_date(request.GET.get("until", ""), _("结束日期"), errors)
    if since and until and since > until:
        errors.append(_("开始日期不能晚于结束日期"))
    qs = selectors.deliveries_list(
        channel=channel, status=status, query=query, key=key, since=since, until=until
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = selectors.delivery_status_counts()
    return render(
        request,
        "notify/delivery_list.html",
        {
            "page": page,
            "errors": errors,
            "channels": Channel.choices,
            "statuses": DeliveryStatus.choices,
            "tiles": [(value, label, counts.get(value, 0)) for value, label in DeliveryStatus.choices],
            "f": {
                "channel": channel,
                "status": status,
                "q": query,
                "key": key,
                "since": request.GET.get("since", "")[:10],
                "until": request.GET.get("until", "")[:10],
            },
        },
        status=400 if errors else 200,
    )


@require_POST
@access.role_required(access.is_system_admin)
def delivery_resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        services.delivery_resend(actor=request.user, delivery_id=delivery_id)
    except ValidationError as exc:
        return render(request, "notify/resend_refused.html", {"reason": " ".join(exc.messages)}, status=400)
    messages.success(request, _("已重新排队发送"))
    return redirect("notify:delivery_list")
