"""Due dates: working days across 国庆 and a 调休 Saturday, natural days, hours, warnings."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from zhengwu.workdays.calendar import SHANGHAI, Limit, due_at, explain_due, warning_at

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


def test_it_lands_a_deadline_across_national_day_on_the_adjusted_saturday() -> None:
    # Accepted Monday 28 Sep: 29 Sep (1), 30 Sep (2), 1–7 Oct 国庆 skipped, 8 Oct (3), 9 Oct (4),
    # Saturday 10 Oct is a 调休 workday (5).
    assert due_at(at(2026, 9, 28), Limit.parse("5wd")) == end_of(2026, 10, 10)
    # Twenty working days end on Friday 30 Oct.
    assert due_at(at(2026, 9, 28), Limit.parse("20wd")) == end_of(2026, 10, 30)


def test_it_does_not_count_the_start_day() -> None:
    assert due_at(at(2026, 9, 29, 8), Limit.parse("1wd")) == end_of(2026, 9, 30)
    assert due_at(at(2026, 9, 29, 23, 59), Limit.parse("1wd")) == end_of(2026, 9, 30)
    assert due_at(at(2026, 9, 30, 9), Limit.parse("1wd")) == end_of(2026, 10, 8)
    # Received on Saturday 19 Sep: the next day is Sunday 20 Sep, a 调休 workday — day one.
    assert due_at(at(2026, 9, 19), Limit.parse("1wd")) == end_of(2026, 9, 20)


def test_it_reads_the_start_in_beijing_time() -> None:
    # 17:00 UTC on 29 Sep is 01:00 on 30 Sep in Beijing: the period starts on 8 Oct.
    from datetime import UTC

    assert due_at(datetime(2026, 9, 29, 17, 0, tzinfo=UTC), Limit.parse("1wd")) == end_of(2026, 10, 8)


def test_it_moves_a_natural_day_limit_ending_on_a_holiday_to_the_next_working_day() -> None:
    # 24 Sep + 7 days = 1 Oct (国庆节): ends with the next working day, Thursday 8 Oct.
    assert due_at(at(2026, 9, 24), Limit.parse("7d")) == end_of(2026, 10, 8)
    # 20 Sep + 5 days = Friday 25 Sep (中秋): next working day Monday 28 Sep.
    assert due_at(at(2026, 9, 20), Limit.parse("5d")) == end_of(2026, 9, 28)
    # Ending on an ordinary Saturday moves to Monday; ending on a 调休 Saturday does not move.
    assert due_at(at(2026, 11, 2), Limit.parse("5d")) == end_of(2026, 11, 9)
    assert due_at(at(2026, 10, 5), Limit.parse("5d")) == end_of(2026, 10, 10)
    explanation = explain_due(at(2026, 9, 24), Limit.parse("7d"))
    assert [name for _d, name in explanation.skipped_days] == ["国庆节"] * 7
    assert any("顺延至下一个工作日" in note for note in explanation.notes)


def test_it_counts_hours_through_holidays() -> None:
    assert due_at(at(2026, 9, 30, 16), Limit.parse("24h")) == at(2026, 10, 1, 16)
    assert due_at(at(2026, 9, 30, 16, 30), Limit.parse("72h")) == at(2026, 10, 3, 16, 30)


def test_it_ends_a_same_day_limit_with_the_next_working_day_when_received_on_a_holiday() -> None:
    assert due_at(at(2026, 10, 12), Limit.parse("0wd")) == end_of(2026, 10, 12)
    assert due_at(at(2026, 10, 3), Limit.parse("0wd")) == end_of(2026, 10, 8)


def test_it_warns_one_working_day_before_the_due_date() -> None:
    one = Limit.parse("1wd")
    assert warning_at(end_of(2026, 10, 10), one) == end_of(2026, 10, 9)
    assert warning_at(end_of(2026, 10, 8), one) == end_of(2026, 9, 30)
    assert warning_at(end_of(2026, 10, 12), one) == end_of(2026, 10, 10)
    # An hour-limit due on a holiday afternoon warns on the last working day before, same time of day.
    assert warning_at(at(2026, 10, 3, 15), one) == at(2026, 9, 30, 15)
    assert warning_at(at(2026, 10, 3, 15), Limit.parse("2h")) == at(2026, 10, 3, 13)
    assert warning_at(end_of(2026, 10, 8), Limit.parse("3d")) == end_of(2026, 10, 5)


def test_it_explains_counted_and_skipped_days() -> None:
    explanation = explain_due(at(2026, 9, 28), Limit.parse("5wd"))
    assert explanation.due == end_of(2026, 10, 10)
    assert explanation.counted_days == [
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),
    ]
    assert explanation.skipped_days == [(date(2026, 10, d), "国庆节") for d in range(1, 8)]
    assert explanation.notes[0].startswith("事件发生当日（9月28日）不计入期限")
    assert explanation.uncertain_years == []


def test_it_flags_a_deadline_in_a_year_without_a_calendar() -> None:
    explanation = explain_due(at(2026, 12, 21), Limit.parse("20wd"))
    assert explanation.uncertain_years == [2027]
    assert any("2027年的法定节假日安排尚未录入" in note for note in explanation.notes)
    assert explanation.due - explanation.start > timedelta(days=20)


def test_it_turns_a_step_warning_then_yellow_then_red_at_the_right_moments() -> None:
    from zhengwu.workdays.calendar import deadline_state, red_card_at

    due = due_at(at(2026, 9, 28), Limit.parse("5wd"))  # end of Saturday 10 Oct (调休)
    warning = warning_at(due, Limit.parse("1wd"))  # end of Friday 9 Oct
    red = red_card_at(due, Limit.parse("3wd"))  # 12, 13, 14 Oct → end of Wednesday 14 Oct
    assert (warning, due, red) == (end_of(2026, 10, 9), end_of(2026, 10, 10), end_of(2026, 10, 14))
    marks = {"due": due, "warning": warning, "red": red}
    assert deadline_state(at(2026, 10, 9, 23, 59), **marks) == "normal"
    assert deadline_state(end_of(2026, 10, 9), **marks) == "warning"
    assert deadline_state(at(2026, 10, 10, 18), **marks) == "warning"
    assert deadline_state(end_of(2026, 10, 10), **marks) == "warning"
    assert deadline_state(at(2026, 10, 11, 0), **marks) == "yellow"
    assert deadline_state(at(2026, 10, 14, 23), **marks) == "yellow"
    assert deadline_state(at(2026, 10, 15, 0), **marks) == "red"
