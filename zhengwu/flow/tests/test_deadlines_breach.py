"""Behaviour on breach (超期处置) configured in the BPMN — deemed approval or rejection, auto-advance,
escalation — each with its outcome and its entry in the history and the trail; BPMN timers fired by the
periodic job; the job itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from freezegun import freeze_time

from zhengwu.core.models import AuditEvent
from zhengwu.flow import selectors, services
from zhengwu.flow.deadlines import deadline_sweep
from zhengwu.flow.engine import DefinitionError
from zhengwu.flow.models import DeadlineState, InstanceEvent, InstanceStatus, ProcessDefinition, TaskStatus
from zhengwu.flow.tests.helpers import complete, only_open, open_tasks, start
from zhengwu.notify.models import Notice

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")
PROCESSES = Path(__file__).resolve().parents[1] / "processes"
TEST_PROCESSES = Path(__file__).resolve().parent / "processes"


@pytest.fixture(autouse=True)
def _fresh_definition_caches() -> None:
    """Definition ids repeat from test to test here (each test's rows are rolled back, ids reused), so
    caches keyed by a definition's id must start empty; in a real database an id is never reused."""
    from zhengwu.flow import deadlines

    getattr(services, "_definitions", {}).clear()
    deadlines.breach_rules_clear()


def at(day: str, time: str = "09:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


def publish(xml: str) -> ProcessDefinition:
    definition, _created = services.definition_publish(actor=None, bpmn_xml=xml, from_command=True)
    return definition


def variant(filename: str, key: str, *replacements: tuple[str, str]) -> ProcessDefinition:
    """A repository process under another key, with some of its text replaced (a property added …)."""
    xml = (PROCESSES / filename).read_text(encoding="utf-8")
    original = filename.removesuffix(".bpmn")
    xml = xml.replace(f'"{original}"', f'"{key}"')
    for old, new in replacements:
        assert xml.count(old) == 1, old
        xml = xml.replace(old, new)
    return publish(xml)


def _history(instance: Any) -> list[tuple[str, str]]:
    return list(
        InstanceEvent.objects.filter(instance=instance).order_by("at", "pk").values_list("action", "note")
    )


def _consulted_case(people: Any, cast: Any, key: str = "solicit_opinions") -> Any:
    """征求意见: drafted on Thursday 2 April 2026; county A's reviewers owe their opinion within 3 working
    days (due Wednesday 8 April, 清明 in between)."""
    with freeze_time(at("2026-04-02", "10:00:00")):
        instance = start(
            people.starter,
            key,
            people.starter.primary_unit,
            title="关于修订值班制度的征求意见",
            units={"dept_1": cast.county_a_gov.pk},
        )
    with freeze_time(at("2026-04-02", "11:00:00")):
        complete(people.starter, only_open(instance, "draft"), opinion="请提出意见")
    consult = only_open(instance, "consult")
    assert consult.due_at == at("2026-04-08", "23:59:59") and consult.unit == cast.county_a_gov
    return instance


def test_it_deems_a_silent_department_to_agree_and_says_so_everywhere(
    processes: Any, people: Any, cast: Any, client_for: Any
) -> None:
    instance = _consulted_case(people, cast)
    consult = only_open(instance, "consult")
    with freeze_time(at("2026-04-08", "18:00:00")):  # a warning, still in time: nothing is deemed
        result = deadline_sweep()
    assert result.breaches == 0
    consult.refresh_from_db()
    assert consult.status == TaskStatus.OPEN and consult.deadline_state == DeadlineState.WARNING
    with freeze_time(at("2026-04-09", "09:00:00")):
        result = deadline_sweep()
    assert result.breaches == 1 and result.breach_failures == 0
    consult.refresh_from_db()
    assert consult.status == TaskStatus.COMPLETED and consult.completed_by is None
    assert consult.outcome == "approve" and consult.opinion == "逾期视为同意"
    assert consult.form_data == {"decision": "agree"} and consult.deadline_state == DeadlineState.YELLOW
    sign_off = only_open(instance, "sign_off")  # the process went on as if the department had agreed
    assert sign_off.unit == people.starter.primary_unit and sign_off.role == "leader"
    assert ("deemed_approved", "逾期视为同意") in _history(instance)
    record = AuditEvent.objects.get(action="flow.task.deemed_approve", object_id=str(consult.pk))
    assert record.after["outcome"] == "approve" and record.after["opinion"] == "逾期视为同意"
    assert Notice.objects.filter(
        recipient=cast.county_reviewer, key=f"flow.task.{consult.pk}.deemed_approve"
    ).exists()
    page = (
        client_for(people.starter).get(reverse("flow:instance_detail", args=[instance.pk])).content.decode()
    )
    assert "逾期视为同意" in page
    # A second sweep changes nothing more.
    with freeze_time(at("2026-04-09", "09:01:00")):
        assert deadline_sweep().breaches == 0
    assert len(open_tasks(instance)) == 1


def test_it_deems_a_silent_department_to_disagree_when_the_process_says_so(
    processes: Any, people: Any, cast: Any
) -> None:
    variant(
        "solicit_opinions.bpmn",
        "solicit_strict",
        ('name="on_breach" value="deemed_approve"', 'name="on_breach" value="deemed_reject"'),
    )
    instance = _consulted_case(people, cast, key="solicit_strict")
    consult = only_open(instance, "consult")
    with freeze_time(at("2026-04-09", "09:00:00")):
        deadline_sweep()
    consult.refresh_from_db()
    assert consult.outcome == "reject" and consult.opinion == "逾期视为不同意"
    assert consult.form_data == {"decision": "disagree"}
    redraft = only_open(instance, "draft")  # back to the drafter, as a "不同意" would
    assert redraft.assignee == people.starter
    assert ("deemed_rejected", "逾期视为不同意") in _history(instance)
    assert AuditEvent.objects.filter(action="flow.task.deemed_reject", object_id=str(consult.pk)).exists()


def test_it_advances_an_overdue_step_by_itself(processes: Any, people: Any) -> None:
    variant(
        "simple_approval.bpmn",
        "simple_auto",
        (
            '<spiffworkflow:property name="assignee" value="starter" />',
            '<spiffworkflow:property name="assignee" value="starter" />'
            '<spiffworkflow:property name="on_breach" value="auto_advance" />',
        ),
    )
    with freeze_time(at("2026-04-02", "10:00:00")):
        instance = start(people.starter, "simple_auto", people.starter.primary_unit)
    register = only_open(instance, "register")
    with freeze_time(at("2026-04-04", "10:00:00")):
        deadline_sweep()
    register.refresh_from_db()
    assert register.status == TaskStatus.COMPLETED and register.outcome == "auto"
    assert register.opinion == "逾期自动流转"
    review = only_open(instance, "review")
    assert review.started_at == at("2026-04-04", "10:00:00")
    assert ("auto_advanced", "逾期自动流转") in _history(instance)
    assert AuditEvent.objects.filter(action="flow.task.auto_advance", object_id=str(register.pk)).exists()


def _escalating(people: Any, role: str) -> tuple[Any, Any]:
    variant(
        "simple_approval.bpmn",
        f"simple_escalate_{role}",
        (
            '<spiffworkflow:property name="limit" value="2wd" />',
            '<spiffworkflow:property name="limit" value="2wd" />'
            f'<spiffworkflow:property name="on_breach" value="escalate:{role}" />',
        ),
    )
    with freeze_time(at("2026-04-02", "10:00:00")):
        instance = start(people.starter, f"simple_escalate_{role}", people.starter.primary_unit)
        complete(people.starter, only_open(instance, "register"))
        review = only_open(instance, "review")
        services.task_claim(actor=people.reviewer, task=review)
    review.refresh_from_db()
    assert review.due_at == at("2026-04-07", "23:59:59")
    return instance, review


def test_it_escalates_an_overdue_step_to_the_units_leader(processes: Any, people: Any) -> None:
    instance, review = _escalating(people, "leader")
    with freeze_time(at("2026-04-08", "09:00:00")):
        deadline_sweep()
    review.refresh_from_db()
    assert review.status == TaskStatus.OPEN and review.deadline_state == DeadlineState.YELLOW
    assert review.assign_kind == "role" and review.role == "leader" and review.assignee is None
    assert review.transferred_from == people.reviewer
    assert selectors.is_candidate(people.leader, review)
    assert not selectors.is_holder(people.reviewer, review)
    history = _history(instance)
    assert ("escalated", "逾期未办，升级由崆峒镇领导办理") in history
    assert Notice.objects.filter(recipient=people.leader, key=f"flow.task.{review.pk}.escalated").exists()
    assert AuditEvent.objects.filter(action="flow.task.escalate", object_id=str(review.pk)).exists()
    # Escalated once: later sweeps (red included) do not escalate again.
    with freeze_time(at("2026-04-13", "09:00:00")):
        deadline_sweep()
    review.refresh_from_db()
    assert review.deadline_state == DeadlineState.RED
    assert [a for a, _n in _history(instance)].count("escalated") == 1


def test_it_records_an_escalation_it_cannot_make_and_leaves_the_step_carded(
    processes: Any, people: Any
) -> None:
    instance, review = _escalating(people, "supervisor")  # township A1 has no supervisor
    with freeze_time(at("2026-04-08", "09:00:00")):
        result = deadline_sweep()
    assert result.breach_failures == 1
    review.refresh_from_db()
    assert review.status == TaskStatus.OPEN and review.assignee == people.reviewer
    assert review.deadline_state == DeadlineState.YELLOW and review.breach_handled_at is not None
    failures = [n for a, n in _history(instance) if a == "breach_failed"]
    assert len(failures) == 1 and "没有“监察员”人员" in failures[0]
    assert Notice.objects.filter(recipient=people.leader, key=f"flow.task.{review.pk}.breach_failed").exists()
    with freeze_time(at("2026-04-08", "09:01:00")):
        assert deadline_sweep().breach_failures == 0


def test_it_refuses_to_publish_a_breach_rule_it_could_not_apply(db: Any) -> None:
    simple = (PROCESSES / "simple_approval.bpmn").read_text(encoding="utf-8")
    step = '<spiffworkflow:property name="limit" value="2wd" />'
    cases = [
        ('<spiffworkflow:property name="on_breach" value="escalate:nobody" />', "超期升级的角色“nobody”无效"),
        ('<spiffworkflow:property name="on_breach" value="teleport" />', "超期处置“teleport”无效"),
        (
            '<spiffworkflow:property name="on_breach" value="deemed_approve" />'
            '<spiffworkflow:property name="field:result" value="choice|审核结果|ok=通过,back=退回" />',
            "无法确定“审核结果”中哪个选项表示同意",
        ),
        ('<spiffworkflow:property name="red_after" value="three days" />', "无法识别的期限"),
    ]
    for extra, message in cases:
        with pytest.raises(DefinitionError, match=message):
            services.definition_publish(
                actor=None, bpmn_xml=simple.replace(step, step + extra), from_command=True
            )
    process_wide = simple.replace(
        '<spiffworkflow:property name="promised_limit" value="5wd" />',
        '<spiffworkflow:property name="promised_limit" value="5wd" />'
        '<spiffworkflow:property name="on_breach" value="deemed_reject:maybe" />'
        '<spiffworkflow:property name="red_after" value="2wd" />',
    )
    # Process-wide, the rule must suit every user step: these have no choice to deem.
    with pytest.raises(DefinitionError, match="流程（环节“登记”）：环节没有可选的表单字段"):
        publish(process_wide)
    with pytest.raises(DefinitionError, match="auto_advance 不带参数"):
        publish(process_wide.replace('value="deemed_reject:maybe"', 'value="auto_advance:now"'))
    definition = publish(process_wide.replace('value="deemed_reject:maybe"', 'value="auto_advance"'))
    assert (
        definition.properties["on_breach"] == "auto_advance" and definition.properties["red_after"] == "2wd"
    )
    explicit = simple.replace(
        step,
        step + '<spiffworkflow:property name="on_breach" value="deemed_approve:ok" />'
        '<spiffworkflow:property name="field:result" value="choice|审核结果|ok=通过,back=退回" />',
    )
    assert publish(explicit).steps["review"]["props"]["on_breach"] == "deemed_approve:ok"
    assert ProcessDefinition.objects.count() == 2


def test_it_fires_bpmn_timers_when_they_are_due(processes: Any, people: Any) -> None:
    publish((TEST_PROCESSES / "notice_period.bpmn").read_text(encoding="utf-8"))
    with freeze_time(at("2026-03-02", "09:00:00")):
        instance = start(people.starter, "notice_period", people.starter.primary_unit, title="拟任人选公示")
    instance.refresh_from_db()
    assert instance.timer_due_at == at("2026-03-07", "09:00:00") and not open_tasks(instance)
    with freeze_time(at("2026-03-05", "09:00:00")):  # the notice period is still running
        assert deadline_sweep().timers == 0
    assert not open_tasks(instance)
    with freeze_time(at("2026-03-07", "09:01:00")):
        assert deadline_sweep().timers == 1
    decide = only_open(instance, "decide")
    assert decide.assignee == people.starter
    instance.refresh_from_db()
    assert instance.timer_due_at == at("2026-03-08", "09:01:00")  # the boundary timer on 作出决定
    with freeze_time(at("2026-03-08", "09:02:00")):  # a day without a decision: the leader decides
        assert deadline_sweep().timers == 1
    decide.refresh_from_db()
    assert decide.status == TaskStatus.CANCELLED
    leader_step = only_open(instance, "leader_decides")
    assert selectors.is_candidate(people.leader, leader_step)
    assert [a for a, _n in _history(instance)].count("timer_fired") == 2
    assert AuditEvent.objects.filter(action="flow.instance.timer", object_id=str(instance.pk)).count() == 2
    with freeze_time(at("2026-03-08", "10:00:00")):
        complete(people.leader, leader_step)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED and instance.timer_due_at is None


def test_it_runs_the_sweep_every_minute_from_the_queue(processes: Any, people: Any) -> None:
    from huey.contrib.djhuey import HUEY

    from zhengwu.flow.tasks import deadline_sweep_task

    due = {
        task.name
        for minute in (0, 1, 17, 59)
        for task in HUEY.read_periodic(dt.datetime(2026, 4, 2, 10, minute))  # noqa: DTZ001 (huey: naive)
    }
    assert "deadline_sweep_task" in due
    with freeze_time(at("2026-04-02", "10:00:00")):
        instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    with freeze_time(at("2026-04-04", "10:00:00")):
        result = deadline_sweep_task.call_local()
    assert result["tasks"]["yellow"] == 1 and result["watched"] == 1
    assert only_open(instance, "register").deadline_state == DeadlineState.YELLOW
