"""Queue tasks of the portal: scheduled publishing (定时发布) each minute, whole-site rebuilds."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from zhengwu.portal import publishing, services


@db_periodic_task(crontab(minute="*"))
def portal_publish_due() -> int:
    return services.item_publish_due()


@db_task()
def portal_rebuild(site_ids: list[int] | None = None) -> int:
    report = publishing.rebuild(site_ids)
    return len(report.written)


@db_periodic_task(crontab(day="1", hour="2", minute="30"))
def portal_score_last_month() -> int:
    """网站月度评分: on the first of each month, score the month that ended."""
    import datetime as dt

    from django.utils import timezone

    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return len(services.site_scores_compute(actor=None, month=last_month))
