"""The trail's daily jobs: verification raises an alert naming the broken record; the purge keeps only the
retention period and leaves a chain that still verifies."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from zhengwu.core.audit import audit_record, audit_verify
from zhengwu.core.models import AuditAnchor, AuditEvent
from zhengwu.core.tasks import audit_purge_daily, audit_verify_daily
from zhengwu.notify.models import Notice

pytestmark = pytest.mark.django_db


def _write(n: int, **kwargs: Any) -> list[AuditEvent]:
    return [
        audit_record(action="test.event", object_type="test", object_id=i, after={"i": i}, **kwargs)
        for i in range(n)
    ]


def test_it_stays_quiet_when_the_trail_is_intact(cast: Any, caplog: Any) -> None:
    _write(5)
    with caplog.at_level(logging.INFO, logger="zhengwu.audit"):
        assert audit_verify_daily.call_local() is True
    assert not Notice.objects.filter(level="alert").exists()
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


def test_it_alerts_the_audit_and_security_admins_naming_the_tampered_record(
    cast: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    events = _write(6)
    victim = events[2]
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET after = %s WHERE id = %s", ['{"i": 999}', victim.pk]
        )
    with (
        caplog.at_level(logging.INFO, logger="zhengwu.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert audit_verify_daily.call_local() is False

    alerts = Notice.objects.filter(level="alert")
    assert set(alerts.values_list("recipient_id", flat=True)) == {cast.audit_admin.pk, cast.security_admin.pk}
    for notice in alerts:
        assert f"#{victim.seq}" in notice.title
        assert f"ID {victim.pk}" in notice.body
        assert notice.url == f"/audit/{victim.pk}/"
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert f"seq={victim.seq}" in critical[0].getMessage() and f"id={victim.pk}" in critical[0].getMessage()
    failed = AuditEvent.objects.get(action="audit.verify_failed")
    assert failed.after["first_bad_seq"] == victim.seq


def test_it_alerts_when_a_record_was_deleted(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    events = _write(5)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [events[1].pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_verify_daily.call_local() is False
    notice = Notice.objects.filter(level="alert", recipient=cast.audit_admin).get()
    assert f"#{events[2].seq}" in notice.title


def test_it_does_not_alert_a_deactivated_admin(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    cast.security_admin.is_active = False
    cast.security_admin.save(update_fields=["is_active"])
    events = _write(3)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET ip = %s WHERE id = %s", ["10.0.0.9", events[0].pk]
        )
    with django_capture_on_commit_callbacks(execute=True):
        audit_verify_daily.call_local()
    assert list(Notice.objects.filter(level="alert").values_list("recipient_id", flat=True)) == [
        cast.audit_admin.pk
    ]


def test_it_purges_records_past_retention_and_the_chain_still_verifies(cast: Any) -> None:
    assert settings.AUDIT_RETENTION_DAYS >= 184
    now = timezone.now()
    with freeze_time(now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 16)):
        old = _write(7)
    with freeze_time(now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS - 1)):
        kept_edge = _write(1)
    recent = _write(3)
    assert audit_verify().ok

    assert audit_purge_daily.call_local() == len(old)

    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert {e.pk for e in kept_edge + recent} <= remaining
    anchor = AuditAnchor.objects.get()
    assert anchor.through_seq == old[-1].seq and anchor.purged_count == len(old)
    purge = AuditEvent.objects.get(action="audit.purge")
    assert purge.after["through_seq"] == old[-1].seq
    result = audit_verify()
    assert result.ok, result.message()
    # Nothing more is old enough the next day.
    assert audit_purge_daily.call_local() == 0


def test_it_refuses_to_purge_a_broken_trail(cast: Any, caplog: Any) -> None:
    now = timezone.now()
    with freeze_time(now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 30)):
        old = _write(4)
    _write(2)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {AuditEvent._meta.db_table} SET action = %s WHERE id = %s", ["x", old[1].pk])
    with caplog.at_level(logging.INFO, logger="zhengwu.audit"):
        assert audit_purge_daily.call_local() == 0
    assert AuditEvent.objects.filter(pk=old[1].pk).exists()  # the evidence stays
    assert not AuditAnchor.objects.exists()
    assert any("purge refused" in r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL)


def test_it_schedules_both_jobs_once_a_night_in_local_time_verification_first() -> None:
    from zoneinfo import ZoneInfo

    from huey.contrib.djhuey import HUEY

    due: dict[str, list[dt.datetime]] = {}
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    for minute in range(24 * 60):
        moment = start + dt.timedelta(minutes=minute)
        # The consumer hands periodic tasks a naive timestamp: UTC (Huey's default) or local time.
        naive = moment.replace(tzinfo=None) if HUEY.utc else timezone.localtime(moment).replace(tzinfo=None)
        for task in HUEY.read_periodic(naive):
            due.setdefault(task.name, []).append(moment.astimezone(ZoneInfo("Asia/Shanghai")))
    verify, purge = due["audit_verify_daily"], due["audit_purge_daily"]
    assert len(verify) == 1 and len(purge) == 1
    assert (verify[0].hour, verify[0].minute) == (2, 15)  # at night in the offices' time zone
    assert verify[0] < purge[0]
