"""Reads for notices and the delivery record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from zhengwu.notify.models import Delivery, Notice


def notices_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notice]:
    qs = Notice.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def deliveries_list(
    *,
    channel: str = "",
    status: str = "",
    query: str = "",
    key: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[Delivery]:
    """The delivery record for platform admins, newest first, filtered (addresses stay encrypted here)."""
    qs = Delivery.objects.order_by("-created_at", "-id")
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(
            Q(recipient_label__icontains=query)
            | Q(recipient__username__iexact=query)
            | Q(title__icontains=query)
        )
    if key:
        qs = qs.filter(key=key)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs


def delivery_status_counts() -> dict[str, int]:
    return {row["status"]: row["n"] for row in Delivery.objects.values("status").annotate(n=Count("id"))}
