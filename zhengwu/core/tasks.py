"""Periodic jobs of the trail (全程留痕): daily verification with an alert, daily retention purge.

Loaded by `manage.py run_huey` (it imports every app's `tasks` module). Each job is also a plain function
(`audit_verify_job`, `audit_purge_job`) so the command line and the tests run exactly the same code.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from zhengwu.core.audit import VerifyResult, audit_purge, audit_record, audit_verify
from zhengwu.core.models import AccountKind, PlatformRole, User
from zhengwu.notify.models import NoticeLevel
from zhengwu.notify.services import notice_send

logger = logging.getLogger("zhengwu.audit")


def _alert_recipients() -> list[int]:
    """Who must hear of a broken trail: every active audit admin and security admin."""
    return list(
        User.objects.filter(
            kind=AccountKind.STAFF,
            is_active=True,
            platform_role__in=[PlatformRole.AUDIT_ADMIN, PlatformRole.SECURITY_ADMIN],
        ).values_list("pk", flat=True)
    )


def audit_verify_job() -> VerifyResult:
    """Walk the chain; on a break, log CRITICAL, tell the audit and security admins, and record the alert."""
    result = audit_verify()
    if result.ok:
        logger.info("audit verify: %s", result.message())
        return result
    logger.critical(
        "AUDIT TRAIL BROKEN: record seq=%s id=%s: %s",
        result.first_bad_seq,
        result.first_bad_id,
        result.problem,
    )
    title = _("留痕链条校验失败：记录 #%(seq)s 被修改、插入或删除") % {"seq": result.first_bad_seq}
    body = _(
        "每日校验发现留痕记录链条断裂。第一条异常记录：序号 %(seq)s（ID %(id)s）。原因：%(problem)s。"
        "请立即核查数据库访问记录，并保全现场。"
    ) % {"seq": result.first_bad_seq, "id": result.first_bad_id, "problem": result.problem}
    url = ""
    if result.first_bad_id is not None:
        url = reverse("core:audit_detail", args=[result.first_bad_id])
    with transaction.atomic():
        notice_send(recipients=_alert_recipients(), title=title, body=body, url=url, level=NoticeLevel.ALERT)
        audit_record(
            action="audit.verify_failed",
            object_type="core.auditevent",
            object_id=result.first_bad_id or "",
            object_label=f"seq {result.first_bad_seq}",
            after={
                "first_bad_seq": result.first_bad_seq,
                "first_bad_id": result.first_bad_id,
                "problem": result.problem,
                "checked": result.checked,
            },
        )
    return result


def audit_purge_job() -> int:
    """Remove records past AUDIT_RETENTION_DAYS (the chain is anchored, so verification still passes).

    Refused while the chain is broken: purging would anchor past a tampered record and erase the evidence.
    """
    check = audit_verify()
    if not check.ok:
        logger.critical("audit purge refused, the trail is broken: %s", check.message())
        return 0
    removed = audit_purge()
    if removed:
        logger.warning("audit purge: removed %d records past retention", removed)
    return removed


def local_crontab(**fields: str) -> Callable[[dt.datetime], bool]:
    """A crontab read in the platform's time zone (Asia/Shanghai), whether Huey's clock is UTC or local:
    "02:15" means a quarter past two at night in the government's offices, not in Greenwich."""
    match = crontab(**fields)

    def validate(timestamp: dt.datetime) -> bool:
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=dt.UTC if HUEY.utc else timezone.get_current_timezone())
        local = timestamp.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        return bool(match(local))

    return validate


@db_periodic_task(local_crontab(hour="2", minute="15"))
def audit_verify_daily() -> bool:
    """每日 02:15 校验留痕链条."""
    return audit_verify_job().ok


@db_periodic_task(local_crontab(hour="3", minute="30"))
def audit_purge_daily() -> int:
    """每日 03:30 清除超过保存期限的留痕记录. Runs after the verification, so a break is reported
    before any purge could move the anchor past it."""
    return audit_purge_job()
