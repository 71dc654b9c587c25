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
