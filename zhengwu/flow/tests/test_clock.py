"""Stopped clocks (暂停计时) move due dates by exactly the stopped working days; supplement steps stop the
case's clock by themselves; everything is recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from zhengwu.flow import services
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import ClockStop, DeadlineState
from zhengwu.flow.tests.helpers import complete, only_open, start

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


def test_it_moves_a_step_due_date_by_the_stopped_working_days(processes: Any, people: Any) -> None:
    with freeze_time(at("2026-03-02")):  # a Monday in an ordinary week
        instance = start(people.starter, "simple_approval", people.starter.primary_unit)
        complete(people.starter, only_open(instance, "register"))
        review = only_open(instance, "review")
        services.task_claim(actor=people.reviewer, task=review)
        review.refresh_from_db()
        assert review.due_at == at("2026-03-04", "23:59:59")  # 2 working days: Tue, Wed
    with freeze_time(at("2026-03-03", "10:00")):
        stop = services.clock_stop_start(
            actor=people.reviewer, task=review, reason="expert_review", note="专家论证"
        )
        review.refresh_from_db()
        assert review.clock_stopped
        with pytest.raises(FlowError, match="已处于暂停"):
            services.clock_stop_start(actor=people.reviewer, task=review, reason="hearing")
        with pytest.raises(PermissionError):
            services.clock_stop_start(actor=people.reviewer2, task=review, reason="hearing")
    with freeze_time(at("2026-03-05", "16:00")):  # Thursday: Wed 4 and Thu 5 did not count
        services.clock_stop_end(actor=people.reviewer, stop=stop)
        stop.refresh_from_db()
        assert stop.stopped_working_days == 2 and stop.ended_by == people.reviewer
        review.refresh_from_db()
        assert review.due_at == at("2026-03-06", "23:59:59")  # Wed + 2 working days → Fri
        assert not review.clock_stopped
        with pytest.raises(FlowError, match="已经恢复"):
            services.clock_stop_end(actor=people.reviewer, stop=stop)


def test_it_stops_the_case_clock_for_a_hearing_and_moves_open_steps_too(processes: Any, people: Any) -> None:
    with freeze_time(at("2026-03-02")):
        instance = start(people.starter, "simple_approval", people.starter.primary_unit)
        legal = instance.legal_due_at
        assert legal == at("2026-03-16", "23:59:59")  # 10 working days
        register = only_open(instance, "register")
        step_due = register.due_at
    with freeze_time(at("2026-03-02", "11:00")):
        with pytest.raises(PermissionError):
            services.clock_stop_start(actor=people.reviewer2, instance=instance, reason="hearing")
        stop = services.clock_stop_start(
            actor=people.starter, instance=instance, reason="hearing", note="听证会"
        )
    with freeze_time(at("2026-03-09", "10:00")):  # a week later: Tue..Fri and Mon = 5 working days
        services.clock_stop_end(actor=people.starter, stop=stop)
    stop.refresh_from_db()
    instance.refresh_from_db()
    register.refresh_from_db()
    assert stop.stopped_working_days == 5
    assert instance.legal_due_at == at("2026-03-23", "23:59:59")
    assert register.due_at == step_due + dt.timedelta(days=7)  # 1wd from Monday: Tue → next Tue
    assert instance.events.filter(action="clock_resumed").exists()


def test_it_stops_the_case_clock_while_the_supplement_step_is_open(
    processes: Any, people: Any, cast: Any
) -> None:
    units = {
        "dept_1": cast.county_a_gov.pk,
        "dept_2": cast.county_b_gov.pk,
        "dept_3": cast.township_a1_gov.pk,
    }
    with freeze_time(at("2026-03-02")):
        instance = start(cast.city_clerk, "sample_parallel_approval", cast.city_gov, units=units)
        assert instance.legal_due_at == at("2026-03-30", "23:59:59")  # 20 working days
        complete(cast.city_clerk, only_open(instance, "accept"), {"materials": "incomplete"})
        supplement = only_open(instance, "supplement")
        stop = ClockStop.objects.get(task=supplement)
        assert stop.automatic and stop.instance == instance
        with pytest.raises(FlowError, match="自动恢复"):
            services.clock_stop_end(actor=cast.city_clerk, stop=stop)
    with freeze_time(at("2026-03-04", "15:00")):  # the applicant supplements on Wednesday
        complete(cast.city_clerk, supplement, opinion="材料已补齐")
    stop.refresh_from_db()
    instance.refresh_from_db()
    assert stop.ended_at == at("2026-03-04", "15:00") and stop.stopped_working_days == 2
    assert instance.legal_due_at == at("2026-04-01", "23:59:59")  # moved by exactly 2 working days
    assert instance.promised_due_at == at("2026-03-18", "23:59:59")


def test_it_keeps_deadline_states_with_chinese_labels(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    assert register.deadline_state == DeadlineState.NORMAL
    assert [str(label) for _v, label in DeadlineState.choices] == ["正常", "预警", "黄牌", "红牌"]
    assert register.get_deadline_state_display() == "正常"
