"""Writes to the government calendar (工作日历). Each is one transaction that records itself in the trail."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record, snapshot
from zhengwu.workdays.calendar import calendar_cache_clear
from zhengwu.workdays.models import CalendarDay

CALENDAR_DAY_FIELDS = ["date", "is_workday", "name", "note"]
FIRST_YEAR = 2000
LAST_YEAR = 2100


def _require_system_admin(actor: Any) -> None:
    if not access.is_system_admin(actor):
        raise PermissionError(_("只有平台系统管理员可以调整工作日历"))


def _clean(day: date, name: str, note: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors["date"] = _("日期须在%(a)d年至%(b)d年之间") % {"a": FIRST_YEAR, "b": LAST_YEAR}
    name, note = name.strip(), note.strip()
    if len(name) > 32:
        errors["name"] = _("名称不能超过32个字")
    if len(note) > 200:
        errors["note"] = _("说明不能超过200个字")
    if errors:
        raise ValidationError(errors)
    return name, note


@transaction.atomic
def calendar_day_save(
    *, actor: Any, day: date, is_workday: bool, name: str = "", note: str = ""
) -> tuple[CalendarDay, bool]:
    """Enter or change what one day is (节假日 / 工作日); returns the row and whether it was new."""
    _require_system_admin(actor)
    name, note = _clean(day, name, note)
    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    created = row is None
    before = None if row is None else snapshot(row, CALENDAR_DAY_FIELDS)
    if row is None:
        row = CalendarDay(date=day)
    elif (row.is_workday, row.name, row.note) == (is_workday, name, note):
        return row, False  # a repeated submit changes nothing and records nothing
    row.is_workday = is_workday
    row.name = name
    row.note = note
    row.changed_by = actor
    row.changed_at = timezone.now()
    row.save()
    audit_record(
        action="workdays.calendar_day.create" if created else "workdays.calendar_day.update",
        obj=row,
        before=before,
        after=snapshot(row, CALENDAR_DAY_FIELDS),
        actor=actor,
    )
    _forget_calendar()
    return row, created


@transaction.atomic
def calendar_day_delete(*, actor: Any, day: date) -> None:
    """Remove an override: the day goes back to what the State Council's arrangement (or the week) says."""
    _require_system_admin(actor)
    row = CalendarDay.objects.select_for_update().filter(date=day).first()
    if row is None:
        raise CalendarDay.DoesNotExist(_("该日期没有人工调整"))
    before = snapshot(row, CALENDAR_DAY_FIELDS)
    label = str(row)
    pk = row.pk
    row.delete()
    audit_record(
        action="workdays.calendar_day.delete",
        object_type="workdays.calendarday",
        object_id=pk,
        object_label=label,
        before=before,
        actor=actor,
    )
    _forget_calendar()


def _forget_calendar() -> None:
    # At once, so this transaction's own reads see the change; and again on commit, in case a read in
    # between cached the state from before.
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)
