"""Stopped clocks (暂停计时): the due date moves by exactly the stopped working days."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from zhengwu.workdays.calendar import (
    SHANGHAI,
    Limit,
    StoppedPeriod,
    StopReason,
    due_at,
    explain_due,
    stopped_working_days,
    working_days_between,
)

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


TEN = Limit.parse("10wd")
START = at(2026, 11, 2, 9)  # a Monday; ten working days end on Monday 16 Nov


def test_it_moves_the_due_date_by_the_stopped_working_days() -> None:
    assert due_at(START, TEN) == end_of(2026, 11, 16)
    # Supplement requested Thursday 5 Nov, materials back Tuesday 10 Nov: 6, 9, 10 Nov do not count.
    stop = StoppedPeriod(at(2026, 11, 5), at(2026, 11, 10, 15), StopReason.SUPPLEMENT)
    assert stopped_working_days(stop) == 3
    assert due_at(START, TEN, [stop]) == end_of(2026, 11, 19)
    assert working_days_between(date(2026, 11, 16), date(2026, 11, 19)) == 3


def test_it_does_not_move_the_due_date_for_a_stop_within_one_day() -> None:
    stop = StoppedPeriod(at(2026, 11, 5, 9), at(2026, 11, 5, 17), StopReason.EXPERT_REVIEW)
    assert stopped_working_days(stop) == 0
    assert due_at(START, TEN, [stop]) == due_at(START, TEN)


def test_it_counts_only_the_working_days_of_a_stop_over_a_weekend() -> None:
    # Friday 6 Nov to Monday 9 Nov: Saturday and Sunday were never counted; Monday is the one stopped day.
    stop = StoppedPeriod(at(2026, 11, 6, 16), at(2026, 11, 9, 11), StopReason.HEARING)
    assert stopped_working_days(stop) == 1
    assert due_at(START, TEN, [stop]) == end_of(2026, 11, 17)


def test_it_counts_a_stop_across_national_day_in_working_days() -> None:
    start = at(2026, 9, 21)  # 10 working days: 22–24 Sep, 28–30 Sep, 8–10 Oct, 12 Oct
    assert due_at(start, TEN) == end_of(2026, 10, 12)
    # Stopped 29 Sep – 9 Oct: 30 Sep, 8 Oct and 9 Oct are the stopped working days (国庆 was never counted).
    stop = StoppedPeriod(at(2026, 9, 29), at(2026, 10, 9), StopReason.NOTICE)
    assert stopped_working_days(stop) == 3
    assert due_at(start, TEN, [stop]) == end_of(2026, 10, 15)


def test_it_keeps_moving_the_due_date_while_a_stop_is_open() -> None:
    stop = StoppedPeriod(at(2026, 11, 5), None, StopReason.TESTING)
    # Still stopped on Thursday 12 Nov: 6, 9, 10, 11, 12 Nov stopped so far.
    now = at(2026, 11, 12, 11)
    assert stopped_working_days(stop, now=now) == 5
    assert due_at(START, TEN, [stop], now=now) == end_of(2026, 11, 23)
    # One working day later the due date is one working day later.
    assert due_at(START, TEN, [stop], now=at(2026, 11, 13, 11)) == end_of(2026, 11, 24)
    explanation = explain_due(START, TEN, [stop], now=now)
    assert explanation.stopped == [(stop, 5)]
    assert explanation.stopped_rows[0]["open"] is True
    assert any("仍在暂停中" in note for note in explanation.notes)


def test_it_counts_overlapping_stops_once() -> None:
    first = StoppedPeriod(at(2026, 11, 5), at(2026, 11, 10), StopReason.SUPPLEMENT)  # 6, 9, 10
    second = StoppedPeriod(at(2026, 11, 9), at(2026, 11, 12), StopReason.EXPERT_REVIEW)  # adds 11, 12
    explanation = explain_due(START, TEN, [second, first])
    assert explanation.stopped == [(first, 3), (second, 2)]
    assert explanation.due == end_of(2026, 11, 23)
    assert due_at(START, TEN, [first, second]) == end_of(2026, 11, 23)


def test_it_adds_two_separate_stops() -> None:
    first = StoppedPeriod(at(2026, 11, 3), at(2026, 11, 4), StopReason.SUPPLEMENT)  # 4 Nov
    second = StoppedPeriod(at(2026, 11, 10), at(2026, 11, 13), StopReason.HEARING)  # 11, 12, 13 Nov
    assert due_at(START, TEN, [first, second]) == end_of(2026, 11, 20)


def test_it_ignores_a_stop_that_begins_after_the_period_ran_out() -> None:
    late = StoppedPeriod(at(2026, 11, 17), at(2026, 11, 20), StopReason.SUPPLEMENT)
    explanation = explain_due(START, TEN, [late])
    assert explanation.due == end_of(2026, 11, 16)
    assert explanation.stopped == [(late, 0)]
    assert any("期限已届满" in note for note in explanation.notes)


def test_it_counts_a_stop_begun_before_the_start_only_from_the_start() -> None:
    early = StoppedPeriod(at(2026, 10, 28), at(2026, 11, 3), StopReason.SUPPLEMENT)  # only 3 Nov counts
    assert due_at(START, TEN, [early]) == end_of(2026, 11, 17)


def test_it_explains_which_days_were_stopped_and_why() -> None:
    stop = StoppedPeriod(at(2026, 11, 5), at(2026, 11, 10, 15), StopReason.SUPPLEMENT)
    explanation = explain_due(START, TEN, [stop])
    assert explanation.stopped_days == [
        (date(2026, 11, 6), "补正材料"),
        (date(2026, 11, 9), "补正材料"),
        (date(2026, 11, 10), "补正材料"),
    ]
    assert len(explanation.counted_days) == 10
    assert explanation.counted_days[-1] == date(2026, 11, 19)
    assert explanation.stopped_rows[0]["length"] == "3个工作日"
    assert any("暂停当日仍计入期限" in note for note in explanation.notes)


def test_it_adds_stopped_natural_days_and_hours() -> None:
    stop = StoppedPeriod(at(2026, 11, 5), at(2026, 11, 10, 15), StopReason.SUPPLEMENT)
    # 15 natural days from 2 Nov end on Tuesday 17 Nov; five stopped days (6–10 Nov) → Sunday 22 Nov → Monday.
    assert due_at(START, Limit.parse("15d")) == end_of(2026, 11, 17)
    assert due_at(START, Limit.parse("15d"), [stop]) == end_of(2026, 11, 23)
    short = StoppedPeriod(at(2026, 11, 2, 12), at(2026, 11, 2, 14), StopReason.TESTING)
    assert due_at(START, Limit.parse("24h"), [short]) == at(2026, 11, 3, 11)
    assert explain_due(START, Limit.parse("24h"), [short]).stopped_rows[0]["length"] == "2小时0分钟"


def test_it_refuses_a_stop_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="恢复时间不能早于暂停时间"):
        StoppedPeriod(at(2026, 11, 5), at(2026, 11, 4), StopReason.SUPPLEMENT)
