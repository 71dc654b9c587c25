"""From 1 November, platform system admins are warned when the coming year has no holiday arrangement."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from zhengwu.notify.models import Notice, NoticeLevel
from zhengwu.workdays.calendar import SHANGHAI, calendar_coverage_warning
from zhengwu.workdays.services import calendar_day_save
from zhengwu.workdays.tasks import calendar_coverage_daily, calendar_coverage_job, coverage_notice_title

pytestmark = pytest.mark.django_db


def run(today: date, capture: Any) -> int:
    with capture(execute=True):
        return calendar_coverage_job(today)


def test_it_is_quiet_before_november_when_this_year_is_known(cast: Any) -> None:
    assert calendar_coverage_warning(date(2026, 10, 31)) is None


def test_it_warns_system_admins_from_the_first_of_november(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    message = calendar_coverage_warning(date(2026, 11, 1))
    assert message is not None and "2027年的法定节假日和调休安排尚未录入" in message
    assert run(date(2026, 11, 1), django_capture_on_commit_callbacks) == 1
    notice = Notice.objects.get(title=coverage_notice_title())
    assert notice.recipient == cast.system_admin
    assert notice.level == NoticeLevel.WARNING
    assert "2027年" in notice.body and notice.url == "/workdays/calendar/?year=2027"
    # The other administrators and ordinary staff hear nothing.
    for other in (cast.audit_admin, cast.security_admin, cast.township_clerk):
        assert not Notice.objects.filter(recipient=other).exists()


def test_it_does_not_repeat_the_warning_within_a_week(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert run(date(2026, 11, 1), django_capture_on_commit_callbacks) == 1
    assert run(date(2026, 11, 2), django_capture_on_commit_callbacks) == 0
    assert Notice.objects.filter(title=coverage_notice_title()).count() == 1
    Notice.objects.update(created_at=datetime(2026, 10, 20, tzinfo=SHANGHAI))
    assert run(date(2026, 11, 8), django_capture_on_commit_callbacks) == 1


def test_it_stops_warning_once_the_holidays_are_entered(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    calendar_day_save(actor=cast.system_admin, day=date(2027, 1, 1), is_workday=False, name="元旦")
    assert calendar_coverage_warning(date(2026, 11, 1)) is None
    assert run(date(2026, 11, 1), django_capture_on_commit_callbacks) == 0
    assert not Notice.objects.exists()


def test_it_warns_at_any_time_when_the_current_year_is_unknown(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    message = calendar_coverage_warning(date(2027, 3, 1))
    assert message is not None and "2027年" in message and "2028" not in message
    assert run(date(2027, 3, 1), django_capture_on_commit_callbacks) == 1
    assert Notice.objects.get().url == "/workdays/calendar/?year=2027"


def test_it_runs_daily_on_the_queue(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    periodic = calendar_coverage_daily.task_class()
    assert periodic.validate_datetime(datetime(2026, 11, 1, 8, 5))  # noqa: DTZ001 (huey compares naive times)
    assert periodic.validate_datetime(datetime(2026, 11, 2, 8, 5))  # noqa: DTZ001
    assert not periodic.validate_datetime(datetime(2026, 11, 1, 9, 5))  # noqa: DTZ001
    with django_capture_on_commit_callbacks(execute=True):
        result = calendar_coverage_daily.call_local()
    # Today's answer depends on the real date; what matters is that the queued job is the same code.
    assert result == Notice.objects.filter(title=coverage_notice_title()).count()
