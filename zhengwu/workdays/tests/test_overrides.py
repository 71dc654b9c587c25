"""The admin-editable calendar wins over the package, covers unknown years, and the cache follows it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from zhengwu.core.models import AuditEvent
from zhengwu.workdays import calendar
from zhengwu.workdays.calendar import (
    SHANGHAI,
    Limit,
    day_name,
    due_at,
    explain_due,
    is_workday,
    year_coverage,
)
from zhengwu.workdays.models import CalendarDay
from zhengwu.workdays.services import calendar_day_delete, calendar_day_save

pytestmark = pytest.mark.django_db


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


def test_it_turns_a_day_into_a_holiday_and_back(sysadmin: Any) -> None:
    monday = date(2026, 6, 1)
    start = datetime(2026, 5, 29, 10, tzinfo=SHANGHAI)  # a Friday
    assert is_workday(monday)
    assert due_at(start, Limit.parse("1wd")) == end_of(2026, 6, 1)

    calendar_day_save(actor=sysadmin, day=monday, is_workday=False, name="防汛停工日")
    assert not is_workday(monday)
    assert day_name(monday) == "防汛停工日"
    assert due_at(start, Limit.parse("1wd")) == end_of(2026, 6, 2)

    calendar_day_save(actor=sysadmin, day=monday, is_workday=True, name="")
    assert is_workday(monday)
    assert day_name(monday) == "工作日"

    calendar_day_delete(actor=sysadmin, day=monday)
    assert is_workday(monday)
    assert due_at(start, Limit.parse("1wd")) == end_of(2026, 6, 1)
    actions = list(
        AuditEvent.objects.filter(object_type="workdays.calendarday").values_list("action", flat=True)
    )
    assert actions == [
        "workdays.calendar_day.create",
        "workdays.calendar_day.update",
        "workdays.calendar_day.delete",
    ]


def test_it_lets_an_override_turn_a_national_holiday_into_a_working_day(sysadmin: Any) -> None:
    calendar_day_save(actor=sysadmin, day=date(2026, 10, 7), is_workday=True, name="应急值守上班")
    assert is_workday(date(2026, 10, 7))
    assert day_name(date(2026, 10, 7)) == "应急值守上班"
    assert due_at(datetime(2026, 9, 30, 10, tzinfo=SHANGHAI), Limit.parse("1wd")) == end_of(2026, 10, 7)


def test_it_uses_overrides_for_a_year_the_package_does_not_know(sysadmin: Any) -> None:
    assert year_coverage(2027).flagged
    assert is_workday(date(2027, 10, 1))  # weekends only: Friday 1 Oct 2027 looks like a working day
    for day in range(1, 8):
        calendar_day_save(actor=sysadmin, day=date(2027, 10, day), is_workday=False, name="国庆节")
    calendar_day_save(actor=sysadmin, day=date(2027, 9, 26), is_workday=True, name="调休上班")
    calendar_day_save(actor=sysadmin, day=date(2027, 10, 9), is_workday=True, name="调休上班")

    coverage = year_coverage(2027)
    assert not coverage.flagged and not coverage.package_known
    assert coverage.holiday_overrides == 7
    assert not is_workday(date(2027, 10, 1)) and day_name(date(2027, 10, 4)) == "国庆节"
    assert is_workday(date(2027, 9, 26)) and day_name(date(2027, 9, 26)) == "调休上班"
    # Thursday 30 Sep 2027: 1–7 Oct skipped, 8 Oct (1), Saturday 9 Oct 调休 (2), Monday 11 Oct (3).
    start = datetime(2027, 9, 30, 10, tzinfo=SHANGHAI)
    assert due_at(start, Limit.parse("3wd")) == end_of(2027, 10, 11)
    assert explain_due(start, Limit.parse("3wd")).uncertain_years == []


def test_it_sees_overrides_written_by_another_process_after_revalidation(
    sysadmin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monday = date(2026, 6, 1)
    assert is_workday(monday)
    # Another server process writes the table; this one notices at its next revalidation.
    CalendarDay.objects.create(date=monday, is_workday=False, name="外部录入")
    assert is_workday(monday)
    monkeypatch.setattr(calendar, "REVALIDATE_SECONDS", 0.0)
    assert not is_workday(monday)


def test_it_refuses_calendar_changes_from_anyone_but_the_system_admin(cast: Any) -> None:
    for who in (cast.audit_admin, cast.security_admin, cast.township_admin, cast.citizen):
        with pytest.raises(PermissionError, match="只有平台系统管理员"):
            calendar_day_save(actor=who, day=date(2026, 6, 1), is_workday=False)
    assert not CalendarDay.objects.exists()


def test_it_records_nothing_for_a_repeated_save(sysadmin: Any) -> None:
    calendar_day_save(actor=sysadmin, day=date(2026, 6, 1), is_workday=False, name="停工")
    _row, created = calendar_day_save(actor=sysadmin, day=date(2026, 6, 1), is_workday=False, name="停工")
    assert not created
    assert AuditEvent.objects.filter(object_type="workdays.calendarday").count() == 1


def test_it_forgets_overrides_the_database_no_longer_has(sysadmin: Any) -> None:
    from zhengwu.workdays.calendar import calendar_cache_clear_if_overridden

    calendar_day_save(actor=sysadmin, day=date(2026, 6, 1), is_workday=False, name="停工")
    assert not is_workday(date(2026, 6, 1))
    # What a rolled-back test leaves behind: the row is gone, the process still remembers it.
    CalendarDay.objects.all().delete()
    assert not is_workday(date(2026, 6, 1))
    calendar_cache_clear_if_overridden()
    assert is_workday(date(2026, 6, 1))
