"""Which days are working days in 2026, as the State Council arranged them (chinesecalendar data)."""

from __future__ import annotations

from datetime import date

import pytest

from zhengwu.workdays.calendar import day_name, is_workday, working_days_between

pytestmark = pytest.mark.django_db


def test_it_knows_the_2026_national_day_week_and_its_adjusted_workdays() -> None:
    # 国务院办公厅 2026 arrangement: 中秋 25–27 Sep, 国庆 1–7 Oct; Sunday 20 Sep and Saturday 10 Oct worked.
    for day in range(1, 8):
        assert not is_workday(date(2026, 10, day))
        assert day_name(date(2026, 10, day)) == "国庆节"
    for day in (25, 26, 27):
        assert day_name(date(2026, 9, day)) == "中秋"
    assert is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert day_name(date(2026, 10, 10)) == "调休上班"
    assert day_name(date(2026, 10, 11)) == "周末"
    assert day_name(date(2026, 10, 12)) == "工作日"


def test_it_knows_the_2026_spring_festival() -> None:
    assert [d for d in range(14, 28) if not is_workday(date(2026, 2, d))] == list(range(15, 24))
    assert day_name(date(2026, 2, 17)) == "春节"
    assert is_workday(date(2026, 2, 14)) and is_workday(date(2026, 2, 28))


def test_it_counts_working_days_without_the_first_day() -> None:
    assert working_days_between(date(2026, 9, 28), date(2026, 9, 28)) == 0
    assert working_days_between(date(2026, 9, 28), date(2026, 9, 29)) == 1
    # 29, 30 Sep; 8, 9, 10 (Saturday, 调休), 12 Oct.
    assert working_days_between(date(2026, 9, 28), date(2026, 10, 12)) == 6
    assert working_days_between(date(2026, 10, 12), date(2026, 9, 28)) == -6


def test_it_counts_across_a_year_end() -> None:
    # 2026-12-31 is a Thursday; 2027 has no package data yet, so weekends only: 1 Jan 2027 (Fri) counts.
    assert working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 3
