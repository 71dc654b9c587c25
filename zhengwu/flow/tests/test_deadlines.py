"""The deadline watch (预警): warning, yellow card and red card come in order at the right moments, counted
in working days across a weekend and a holiday; stopped clocks defer them; each change is recorded once,
in the trail too, and told once to the holders (and, on red, to the unit's leaders, also by SMS)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from zhengwu.core.audit import audit_verify
from zhengwu.core.models import AuditEvent
from zhengwu.flow import services
from zhengwu.flow.deadlines import deadline_sweep
from zhengwu.flow.models import DeadlineEvent, DeadlineState, Task
from zhengwu.flow.tests.helpers import complete, only_open, start
from zhengwu.notify.models import Delivery, Notice

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")
SECOND = dt.timedelta(seconds=1)


def at(day: str, time: str = "09:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


def _register_step(people: Any) -> Task:
    """The 1-working-day 登记 step of 登记审核签发, started on Thursday 2 April 2026 at 10:00.

    Due at the end of Friday 3 April; warned at the end of Thursday; then comes 清明 (Sat 4 – Mon 6 April,
    Monday a holiday), so the red card (3 working days past due) falls at the end of Thursday 9 April.
    """
    with freeze_time(at("2026-04-02", "10:00:00")):
        instance = start(people.starter, "simple_approval", people.starter.primary_unit, title="清明前的登记")
    return only_open(instance, "register")


def _states(task: Task) -> list[tuple[str, str]]:
    return list(
        DeadlineEvent.objects.filter(task=task).order_by("at", "pk").values_list("from_state", "to_state")
    )


def test_it_warns_then_cards_yellow_then_red_across_a_weekend_and_a_holiday(
    processes: Any, people: Any
) -> None:
    task = _register_step(people)
    assert task.due_at == at("2026-04-03", "23:59:59")
    assert task.warning_at == at("2026-04-02", "23:59:59")
    assert task.red_at == at("2026-04-09", "23:59:59")

    moments = [
        (at("2026-04-02", "23:59:58"), "normal"),  # a second before the warning
        (at("2026-04-02", "23:59:59"), "warning"),  # one working day before due
        (at("2026-04-03", "23:59:59"), "warning"),  # the last second of the limit is still in time
        (at("2026-04-04", "00:00:00"), "yellow"),  # Saturday: overdue
        (at("2026-04-06", "12:00:00"), "yellow"),  # the holiday Monday does not count toward red
        (at("2026-04-09", "23:59:59"), "yellow"),  # the third working day past due, still yellow
        (at("2026-04-10", "00:00:00"), "red"),
    ]
    for moment, expected in moments:
        deadline_sweep(now=moment)
        task.refresh_from_db()
        assert task.deadline_state == expected, moment
    assert _states(task) == [("normal", "warning"), ("warning", "yellow"), ("yellow", "red")]
    events = list(DeadlineEvent.objects.filter(task=task).order_by("at"))
    assert [e.at for e in events] == [
        at("2026-04-02", "23:59:59"),
        at("2026-04-04", "00:00:00"),
        at("2026-04-10", "00:00:00"),
    ]
    assert all(e.instance_id == task.instance_id for e in events)
    assert "2026-04-03 23:59" in events[1].note


def test_it_changes_nothing_before_the_warning_moment(processes: Any, people: Any) -> None:
    task = _register_step(people)
    notices = Notice.objects.count()
    trail = AuditEvent.objects.count()
    for moment in (at("2026-04-02", "10:00:01"), at("2026-04-02", "18:00:00"), task.warning_at - SECOND):
        result = deadline_sweep(now=moment)
        assert result.changed == 0 and result.watched == 1
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.NORMAL
    assert not DeadlineEvent.objects.exists()
    assert Notice.objects.count() == notices and AuditEvent.objects.count() == trail


def test_it_tells_the_holder_once_per_state_even_when_the_sweep_runs_twice(
    processes: Any, people: Any
) -> None:
    task = _register_step(people)
    for moment in (at("2026-04-03", "08:00:00"), at("2026-04-04", "08:00:00"), at("2026-04-10", "08:00:00")):
        first = deadline_sweep(now=moment)
        again = deadline_sweep(now=moment)
        assert first.changed == 1 and first.notices >= 1
        assert again.changed == 0 and again.notices == 0
    mine = Notice.objects.filter(recipient=people.starter, key__startswith=f"flow.deadline.{task.pk}.")
    assert sorted(mine.values_list("key", flat=True)) == [
        f"flow.deadline.{task.pk}.red",
        f"flow.deadline.{task.pk}.warning",
        f"flow.deadline.{task.pk}.yellow",
    ]
    titles = dict(mine.values_list("key", "title"))
    assert titles[f"flow.deadline.{task.pk}.warning"].startswith(
        "预警：登记：清明前的登记 将于 2026-04-03 23:59"
    )
    assert titles[f"flow.deadline.{task.pk}.yellow"].startswith("黄牌：")
    assert titles[f"flow.deadline.{task.pk}.red"].startswith("红牌：")
    assert not DeadlineEvent.objects.filter(notified_at__isnull=True).exists()


def test_it_tells_the_units_leader_on_red_and_sends_sms(processes: Any, people: Any) -> None:
    task = _register_step(people)
    deadline_sweep(now=at("2026-04-04"))
    key_yellow = f"flow.deadline.{task.pk}.yellow"
    assert not Notice.objects.filter(recipient=people.leader, key=key_yellow).exists()
    assert not Delivery.objects.exists()  # yellow: in-app only
    deadline_sweep(now=at("2026-04-10", "08:00:00"))
    key = f"flow.deadline.{task.pk}.red"
    leader_notice = Notice.objects.get(recipient=people.leader, key=key)
    assert leader_notice.level == "alert" and leader_notice.url == task.get_absolute_url()
    assert leader_notice.title == "红牌：登记：清明前的登记 严重超期（2026-04-03 23:59 到期）"
    # The SMS says how many steps are late, never the case's title (phones show texts on a locked screen).
    holder_sms = Delivery.objects.get(recipient=people.starter, channel="sms")
    assert holder_sms.address == "13900000001" and holder_sms.status in {"pending", "deferred", "sent"}
    assert holder_sms.params == {"text": "红牌：您有 1 个事项严重超期，请登录平台尽快办理"}
    assert holder_sms.key.startswith("flow.deadline.red.sms.")
    assert Delivery.objects.filter(recipient=people.leader, channel="sms").exists()
    # The leader of another township hears nothing.
    assert not Notice.objects.filter(key=key).exclude(recipient__in=[people.starter, people.leader]).exists()
    # Swept again: no second text.
    deadline_sweep(now=at("2026-04-10", "08:01:00"))
    assert Delivery.objects.filter(recipient=people.starter, channel="sms").count() == 1


def test_it_skips_straight_to_the_furthest_state_with_one_event(processes: Any, people: Any) -> None:
    task = _register_step(people)
    result = deadline_sweep(now=at("2026-04-13"))  # the sweep did not run for ten days
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.RED and result.tasks == {"warning": 0, "yellow": 0, "red": 1}
    assert _states(task) == [("normal", "red")]
    keys = set(Notice.objects.filter(recipient=people.starter).values_list("key", flat=True))
    assert f"flow.deadline.{task.pk}.red" in keys and f"flow.deadline.{task.pk}.yellow" not in keys


def test_it_defers_the_cards_while_the_clock_is_stopped(processes: Any, people: Any) -> None:
    task = _register_step(people)
    with freeze_time(at("2026-04-02", "15:00:00")):  # Thursday: waiting for an expert's opinion
        stop = services.clock_stop_start(actor=people.starter, task=task, reason="expert_review")
    # Past the original warning and due moments nothing happens while the clock stands still.
    for moment in (at("2026-04-03"), at("2026-04-07")):
        assert deadline_sweep(now=moment).changed == 0
    task.refresh_from_db()
    assert task.clock_stopped and task.deadline_state == DeadlineState.NORMAL
    with freeze_time(at("2026-04-08", "11:00:00")):  # Wednesday: Fri 3, Tue 7 and Wed 8 did not count
        services.clock_stop_end(actor=people.starter, stop=stop)
    task.refresh_from_db()
    assert task.due_at == at("2026-04-09", "23:59:59")  # moved by exactly 3 working days
    assert task.warning_at == at("2026-04-08", "23:59:59") and task.red_at == at("2026-04-14", "23:59:59")
    for moment, expected in (
        (at("2026-04-08", "12:00:00"), "normal"),
        (at("2026-04-08", "23:59:59"), "warning"),
        (at("2026-04-10"), "yellow"),
        (at("2026-04-14", "23:59:59"), "yellow"),
        (at("2026-04-15"), "red"),
    ):
        deadline_sweep(now=moment)
        task.refresh_from_db()
        assert task.deadline_state == expected, moment


def test_it_keeps_a_warning_when_a_stop_moves_the_due_date_later(processes: Any, people: Any) -> None:
    task = _register_step(people)
    deadline_sweep(now=at("2026-04-02", "23:59:59"))
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.WARNING
    with freeze_time(at("2026-04-02", "23:59:59.500000")):  # stopped right after the warning
        stop = services.clock_stop_start(actor=people.starter, task=task, reason="supplement")
    with freeze_time(at("2026-04-08", "11:00:00")):
        services.clock_stop_end(actor=people.starter, stop=stop)
    task.refresh_from_db()
    assert task.due_at == at("2026-04-09", "23:59:59") and task.warning_at == at("2026-04-08", "23:59:59")
    # The warning was given and stays (states never go back); no second warning, yellow after the new due.
    deadline_sweep(now=at("2026-04-08", "23:59:59"))
    deadline_sweep(now=at("2026-04-09", "12:00:00"))
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.WARNING
    deadline_sweep(now=task.due_at + SECOND)
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.YELLOW
    assert _states(task) == [("normal", "warning"), ("warning", "yellow")]
    assert (
        Notice.objects.filter(recipient=people.starter, key=f"flow.deadline.{task.pk}.warning").count() == 1
    )


def test_it_keeps_a_card_when_a_later_stop_moves_nothing(processes: Any, people: Any) -> None:
    task = _register_step(people)
    deadline_sweep(now=at("2026-04-07", "09:00:00"))
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.YELLOW
    with freeze_time(at("2026-04-07", "10:00:00")):
        stop = services.clock_stop_start(actor=people.starter, task=task, reason="supplement")
    with freeze_time(at("2026-04-09", "10:00:00")):
        services.clock_stop_end(actor=people.starter, stop=stop)
    task.refresh_from_db()
    # An overdue step does not become timely by being stopped: same dates, card kept, red still comes.
    assert task.due_at == at("2026-04-03", "23:59:59") and task.red_at == at("2026-04-09", "23:59:59")
    assert task.deadline_state == DeadlineState.YELLOW
    deadline_sweep(now=at("2026-04-10", "09:00:00"))
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.RED


def test_it_stops_watching_a_step_once_it_is_done(processes: Any, people: Any) -> None:
    task = _register_step(people)
    deadline_sweep(now=at("2026-04-04"))
    with freeze_time(at("2026-04-07", "09:00:00")):
        complete(people.starter, task)
    review = only_open(task.instance, "review")
    deadline_sweep(now=at("2026-04-15"))  # review: due Thu 9 April, red after Tue 14 April
    task.refresh_from_db()
    assert task.deadline_state == DeadlineState.YELLOW  # kept as it was when done, never red
    review.refresh_from_db()
    assert review.due_at == at("2026-04-09", "23:59:59") and review.deadline_state == DeadlineState.RED


def test_it_writes_each_change_into_the_trail(processes: Any, people: Any) -> None:
    task = _register_step(people)
    for moment in (at("2026-04-03"), at("2026-04-04"), at("2026-04-10")):
        deadline_sweep(now=moment)
    records = AuditEvent.objects.filter(object_type="flow.task", object_id=str(task.pk)).order_by("seq")
    assert [r.action for r in records if r.action.startswith("flow.deadline.")] == [
        "flow.deadline.warning",
        "flow.deadline.yellow",
        "flow.deadline.red",
    ]
    red = records.get(action="flow.deadline.red")
    assert red.before == {"deadline_state": "yellow"} and red.after["deadline_state"] == "red"
    assert red.unit_label == "崆峒镇人民政府" and red.actor_id is None
    assert audit_verify().ok


def test_it_watches_the_case_against_its_promised_and_legal_limits(processes: Any, people: Any) -> None:
    task = _register_step(people)
    instance = task.instance
    # 登记审核签发: promised 5 working days (Fri 10 April), legal 10 (Fri 17 April), from Thu 2 April.
    assert instance.promised_due_at == at("2026-04-10", "23:59:59")
    assert instance.legal_due_at == at("2026-04-17", "23:59:59")
    assert instance.warning_at == at("2026-04-09", "23:59:59")
    assert instance.red_at == instance.legal_due_at
    for moment, expected in (
        (at("2026-04-09", "23:59:58"), "normal"),
        (at("2026-04-09", "23:59:59"), "warning"),
        (at("2026-04-11"), "yellow"),
        (at("2026-04-17", "23:59:59"), "yellow"),
        (at("2026-04-18"), "red"),
    ):
        deadline_sweep(now=moment)
        instance.refresh_from_db()
        assert instance.deadline_state == expected, moment
    case_events = DeadlineEvent.objects.filter(instance=instance, task__isnull=True).order_by("at")
    assert [(e.from_state, e.to_state) for e in case_events] == [
        ("normal", "warning"),
        ("warning", "yellow"),
        ("yellow", "red"),
    ]
    leader_keys = set(Notice.objects.filter(recipient=people.leader).values_list("key", flat=True))
    assert {
        f"flow.deadline.case.{instance.pk}.yellow",
        f"flow.deadline.case.{instance.pk}.red",
    } <= leader_keys
    assert AuditEvent.objects.filter(
        object_type="flow.processinstance", object_id=str(instance.pk), action="flow.deadline.red"
    ).exists()


def test_it_sends_one_digest_to_someone_with_many_cards(processes: Any, people: Any) -> None:
    with freeze_time(at("2026-04-02", "10:00:00")):
        instances = [
            start(people.starter, "simple_approval", people.starter.primary_unit, title=f"批量办件{i}")
            for i in range(5)
        ]
    deadline_sweep(now=at("2026-04-04"))
    yellow = Notice.objects.filter(recipient=people.starter, key__contains="yellow")
    assert yellow.count() == 1
    digest = yellow.get()
    assert digest.title == "黄牌：您有 5 个事项已超期" and digest.key.startswith(
        "flow.deadline.yellow.digest."
    )
    assert digest.body == "请在待办中查看，尽快办理。" and digest.url == "/flow/"
    # Re-running tells nobody again; each step still has its own event.
    deadline_sweep(now=at("2026-04-04"))
    assert Notice.objects.filter(recipient=people.starter, key__contains="yellow").count() == 1
    assert DeadlineEvent.objects.filter(to_state="yellow", task__instance__in=instances).count() == 5
