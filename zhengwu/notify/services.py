"""Sending notices. Notices are created on commit of the business transaction that caused them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from zhengwu.notify.models import Notice, NoticeLevel


def notice_send(
    *, recipients: Iterable[Any], title: str, body: str = "", url: str = "", level: str = NoticeLevel.INFO
) -> None:
    """Queue in-app notices to be written when the surrounding transaction commits."""
    recipient_ids = [getattr(r, "pk", r) for r in recipients]

    def write() -> None:
        Notice.objects.bulk_create(
            [
                Notice(recipient_id=rid, title=title[:200], body=body, url=url, level=level)
                for rid in recipient_ids
            ]
        )

    transaction.on_commit(write)
