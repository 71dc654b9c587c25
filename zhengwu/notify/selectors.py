from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from zhengwu.notify.models import Notice


def notices_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notice]:
    qs = Notice.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs
