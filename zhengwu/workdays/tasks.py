"""Periodic job of the government calendar: warn when a year about to be counted has no holidays.

The chinesecalendar package learns each year's arrangement only after the State Council publishes it
(usually in November), and a year it does not know is counted with weekends only — every deadline
crossing a holiday would then be wrong. From 1 November the platform system admins are told, at most once
a week each, until the coming year is covered (by the package or by holidays entered by hand).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengwu.core.models import AccountKind, PlatformRole, User
from zhengwu.notify.models import Notice, NoticeLevel
from zhengwu.notify.services import notice_send
from zhengwu.workdays.calendar import calendar_coverage_warning

logger = logging.getLogger(__name__)

REPEAT_AFTER = timedelta(days=7)


def coverage_notice_title() -> str:
    return _("工作日历缺少节假日安排")


def calendar_coverage_job(today: date | None = None) -> int:
    """Warn every active platform system admin not warned in the past week; returns how many were warned."""
    today = today or timezone.localdate()
    message = calendar_coverage_warning(today)
    if message is None:
        return 0
    title = coverage_notice_title()
    admins = set(
        User.objects.filter(
            kind=AccountKind.STAFF, is_active=True, platform_role=PlatformRole.SYSTEM_ADMIN
        ).values_list("pk", flat=True)
    )
    recently = set(
        Notice.objects.filter(
            recipient_id__in=admins, title=title, created_at__gte=timezone.now() - REPEAT_AFTER
        ).values_list("recipient_id", flat=True)
    )
    recipients = sorted(admins - recently)
    logger.warning("workdays: %s", message)
    if not recipients:
        return 0
    with transaction.atomic():
        notice_send(
            recipients=recipients,
            title=title,
            body=message,
            url=f"{reverse('workdays:calendar')}?year={today.year + (1 if today.month >= 11 else 0)}",
            level=NoticeLevel.WARNING,
        )
    return len(recipients)


@db_periodic_task(crontab(hour="8", minute="5"))
def calendar_coverage_daily() -> int:
    """每日 08:05 检查：当年及（11月起）下一年的法定节假日安排是否已有数据."""
    return calendar_coverage_job()
