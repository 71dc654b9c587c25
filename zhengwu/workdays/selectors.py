"""Reads of the government calendar for pages (a year's month grids, its overrides)."""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from zhengwu.workdays.calendar import day_label, day_name, is_workday
from zhengwu.workdays.models import CalendarDay


@dataclass(frozen=True)
class DayCell:
    day: date
    is_workday: bool
    name: str
    kind: str  # workday | weekend | holiday | adjusted (调休上班)
    override: CalendarDay | None

    @property
    def css(self) -> str:
        return f"cal-{self.kind}" + (" cal-override" if self.override is not None else "")


@dataclass(frozen=True)
class Month:
    month: int
    weeks: list[list[DayCell | None]]
    workdays: int


def calendar_overrides(year: int) -> QuerySet[CalendarDay]:
    return CalendarDay.objects.filter(date__year=year).select_related("changed_by").order_by("date")


def calendar_year_months(year: int) -> list[Month]:
    """Twelve month grids (Monday first), each day marked as the calendar counts it."""
    overrides = {row.date: row for row in calendar_overrides(year)}
    months = []
    for month in range(1, 13):
        weeks: list[list[DayCell | None]] = []
        count = 0
        for week in _stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[DayCell | None] = []
            for d in week:
                if d.month != month:
                    row.append(None)
                    continue
                work = is_workday(d)
                raw = day_name(d, translated=False)
                name = day_label(raw)
                if work:
                    count += 1
                    kind = "adjusted" if d.weekday() >= 5 else "workday"
                else:
                    kind = "weekend" if raw == "周末" else "holiday"
                row.append(DayCell(d, work, name, kind, overrides.get(d)))
            weeks.append(row)
        months.append(Month(month, weeks, count))
    return months
