"""The engine end to end through the services: start, complete, return, transfer, delegate, countersign,
any-sign, parallel branches across units, restart from the stored state, and a new definition version."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from SpiffWorkflow.util.task import TaskState

from zhengwu.core.models import AuditEvent
from zhengwu.flow import engine, services
from zhengwu.flow.engine import FlowError
from zhengwu.flow.models import (
    AssignKind,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    SampleCase,
    Task,
    TaskStatus,
)
from zhengwu.flow.tests.helpers import complete, only_open, open_tasks, start

pytestmark = pytest.mark.django_db


def test_it_starts_a_process_and_puts_the_first_step_in_the_starters_todo(
    processes: Any, people: Any
) -> None:
    instance = start(
        people.starter, "simple_approval", people.starter.primary_unit, title="关于修缮办公楼的请示"
    )
    register = only_open(instance, "register")
    assert register.assignee == people.starter
    assert register.assign_kind == AssignKind.PERSON
    assert register.title == "登记：关于修缮办公楼的请示"
    assert register.limit == "1wd" and register.due_at is not None and register.warning_at is not None
    assert instance.status == InstanceStatus.RUNNING and instance.current_steps == "登记"
    assert instance.serializer_version == engine.CURRENT_VERSION
    assert instance.state["serializer_version"] == engine.CURRENT_VERSION
    assert instance.legal_limit == "10wd" and instance.legal_due_at > instance.promised_due_at
    case = SampleCase.objects.get(pk=instance.business_id)
    assert case.status == "in_progress" and case.current_step == "登记"
    assert AuditEvent.objects.filter(action="flow.instance.start", object_id=str(instance.pk)).exists()


def test_it_completes_three_steps_and_finishes(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"), opinion="已登记")
    review = only_open(instance, "review")
    assert review.assignee is None and review.assign_kind == AssignKind.ROLE and review.role == "reviewer"
    services.task_claim(actor=people.reviewer, task=review)
    complete(people.reviewer, review, opinion="同意")
    sign_off = only_open(instance, "sign_off")
    complete(people.leader, sign_off, opinion="同意签发")  # claimed on the way
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED and instance.ended_at is not None
    assert open_tasks(instance) == []
    done = Task.objects.filter(instance=instance, status=TaskStatus.COMPLETED).order_by("id")
    assert [(t.step_id, t.completed_by_id, t.opinion) for t in done] == [
        ("register", people.starter.pk, "已登记"),
        ("review", people.reviewer.pk, "同意"),
        ("sign_off", people.leader.pk, "同意签发"),
    ]
    case = SampleCase.objects.get(pk=instance.business_id)
    assert case.status == "done" and case.steps_done == 3
    actions = list(AuditEvent.objects.filter(action__startswith="flow.task").values_list("action", flat=True))
    assert actions == ["flow.task.complete", "flow.task.claim", "flow.task.complete", "flow.task.complete"]


def test_it_refuses_a_second_completion_and_a_stranger(processes: Any, people: Any, cast: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    with pytest.raises(PermissionError):
        complete(cast.other_township_clerk, register)
    complete(people.starter, register)
    with pytest.raises(FlowError, match="已办理或已关闭"):
        complete(people.starter, register)
    review = only_open(instance, "review")
    services.task_claim(actor=people.reviewer, task=review)
    with pytest.raises(FlowError, match="已由钱审核签收"):
        services.task_claim(actor=people.reviewer2, task=review)
    with pytest.raises(FlowError, match="已由钱审核签收"):
        complete(people.reviewer2, review)


def test_it_sends_back_to_an_earlier_step_with_a_reason(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    complete(people.reviewer, only_open(instance, "review"))
    sign_off = only_open(instance, "sign_off")
    services.task_claim(actor=people.leader, task=sign_off)
    targets = services.send_back_targets(sign_off)
    assert [name for _id, name in targets] == ["审核", "登记"]
    with pytest.raises(FlowError, match="退回理由"):
        services.task_send_back(actor=people.leader, task=sign_off, target=targets[1][0], reason="  ")
    services.task_send_back(
        actor=people.leader, task=sign_off, target=targets[1][0], reason="附件不全，请补充"
    )
    sign_off.refresh_from_db()
    assert sign_off.status == TaskStatus.SENT_BACK and sign_off.opinion == "附件不全，请补充"
    register = only_open(instance, "register")
    assert register.assignee == people.starter  # back to whoever did it
    complete(people.starter, register)
    review = only_open(instance, "review")
    assert review.assignee is None and review.role == "reviewer"  # a later step is a fresh to-do for its role
    complete(people.reviewer, review)
    complete(people.leader, only_open(instance, "sign_off"))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_it_refuses_to_send_back_to_a_step_not_on_the_path(processes: Any, people: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    assert services.send_back_targets(register) == []
    with pytest.raises(FlowError, match="不能退回"):
        services.task_send_back(
            actor=people.starter, task=register, target=str(register.spiff_task_id), reason="x"
        )


def test_it_transfers_within_the_unit_only(processes: Any, people: Any, cast: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    with pytest.raises(FlowError, match="本单位"):
        services.task_transfer(actor=people.starter, task=register, to_user=cast.other_township_clerk)
    with pytest.raises(FlowError, match="自己"):
        services.task_transfer(actor=people.starter, task=register, to_user=people.starter)
    services.task_transfer(actor=people.starter, task=register, to_user=people.colleague, reason="出差")
    register.refresh_from_db()
    assert register.assignee == people.colleague and register.transferred_from == people.starter
    with pytest.raises(PermissionError):
        complete(people.starter, register)
    complete(people.colleague, register)
    assert only_open(instance, "review")


def test_it_sends_tasks_arriving_while_away_to_the_delegate(processes: Any, people: Any, cast: Any) -> None:
    today = timezone.localdate()
    with pytest.raises(FlowError, match="本单位"):
        services.delegation_create(
            actor=people.starter, delegate=cast.other_township_clerk, starts_on=today, ends_on=today
        )
    with pytest.raises(FlowError, match="结束日期"):
        services.delegation_create(
            actor=people.starter,
            delegate=people.colleague,
            starts_on=today,
            ends_on=today - dt.timedelta(days=1),
        )
    services.delegation_create(
        actor=people.starter, delegate=people.colleague, starts_on=today, ends_on=today + dt.timedelta(days=3)
    )
    with pytest.raises(FlowError, match="已有委托"):
        services.delegation_create(
            actor=people.starter, delegate=people.reviewer, starts_on=today, ends_on=today
        )
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    assert register.assignee == people.colleague and register.delegated_from == people.starter
    complete(people.colleague, register)
    assert instance.events.filter(action="delegated").exists()


def test_it_leaves_tasks_alone_outside_the_delegation_window(processes: Any, people: Any) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    delegation = services.delegation_create(
        actor=people.starter, delegate=people.colleague, starts_on=tomorrow, ends_on=tomorrow
    )
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    assert only_open(instance, "register").assignee == people.starter
    services.delegation_cancel(actor=people.starter, delegation=delegation)
    delegation.refresh_from_db()
    assert delegation.cancelled_at is not None


def test_it_countersigns_when_everyone_agrees(processes: Any, people: Any) -> None:
    instance = start(people.starter, "countersign_review", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "draft"))
    signs = open_tasks(instance, "countersign")
    assert sorted(t.assignee_id for t in signs) == sorted([people.reviewer.pk, people.reviewer2.pk])
    assert all(t.sign_mode == "countersign" for t in signs)
    first, second = sorted(signs, key=lambda t: t.assignee_id == people.reviewer2.pk)
    with pytest.raises(FlowError, match="会签意见"):
        complete(first.assignee, first, {})
    complete(first.assignee, first, {"vote": "agree"})
    assert len(open_tasks(instance, "countersign")) == 1  # still waiting for the other
    assert open_tasks(instance, "sign_off") == []
    complete(second.assignee, second, {"vote": "agree"})
    assert only_open(instance, "sign_off").role == "leader"


def test_it_routes_back_when_one_countersigner_disagrees(processes: Any, people: Any) -> None:
    instance = start(people.starter, "countersign_review", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "draft"))
    signs = open_tasks(instance, "countersign")
    dissenter = signs[0]
    complete(dissenter.assignee, dissenter, {"vote": "disagree"}, opinion="数据有误")
    # One "disagree" closes the countersign at once; the others' to-dos are closed, the draft comes back.
    others = Task.objects.get(pk=signs[1].pk)
    assert others.status == TaskStatus.CANCELLED
    draft = only_open(instance, "draft")
    assert draft.assignee == people.starter
    complete(people.starter, draft, opinion="已修改")
    again = open_tasks(instance, "countersign")
    assert len(again) == 2  # a new round for everyone
    for t in again:
        complete(t.assignee, t, {"vote": "agree"})
    assert only_open(instance, "sign_off")


def test_it_closes_the_others_when_one_any_signer_completes(processes: Any, people: Any) -> None:
    instance = start(people.starter, "any_sign_review", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "draft"))
    signs = open_tasks(instance, "any_sign")
    assert len(signs) == 2 and all(t.sign_mode == "any_sign" for t in signs)
    complete(signs[1].assignee, signs[1])
    assert Task.objects.get(pk=signs[0].pk).status == TaskStatus.CANCELLED
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    with pytest.raises(FlowError, match="已办理或已关闭"):
        complete(signs[0].assignee, Task.objects.get(pk=signs[0].pk))


def sample_units(cast: Any) -> dict[str, int]:
    return {"dept_1": cast.county_a_gov.pk, "dept_2": cast.county_b_gov.pk, "dept_3": cast.township_a1_gov.pk}


def test_it_runs_parallel_branches_in_three_units(processes: Any, people: Any, cast: Any) -> None:
    lead = cast.city_gov
    instance = start(cast.city_clerk, "sample_parallel_approval", lead, units=sample_units(cast))
    accept = only_open(instance, "accept")
    assert accept.unit == lead and accept.role == "handler"
    complete(cast.city_clerk, accept, {"materials": "complete"})
    branches = {t.step_id: t for t in open_tasks(instance)}
    assert {t.step_id for t in open_tasks(instance)} == {"review_1", "review_2", "review_3"}
    assert (
        branches["review_1"].unit == cast.county_a_gov
        and branches["review_1"].assignee == cast.county_reviewer
    )
    assert (
        branches["review_2"].unit == cast.county_b_gov
        and branches["review_2"].assignee == cast.county_b_clerk
    )
    dept3 = open_tasks(instance, "review_3")
    assert {t.unit_id for t in dept3} == {cast.township_a1_gov.pk}
    assert {t.assignee_id for t in dept3} == {people.reviewer.pk, people.reviewer2.pk}
    instance.refresh_from_db()
    assert set(instance.current_steps.split("、")) == {"部门一会签", "部门二会签", "部门三会签"}
    complete(cast.county_reviewer, branches["review_1"], {"vote_1": "agree"})
    complete(cast.county_b_clerk, branches["review_2"], {"vote_2": "agree"})
    assert open_tasks(instance, "sign_off") == []  # the join waits for the third department
    for t in dept3:
        complete(t.assignee, t, {"vote_3": "agree"})
    sign_off = only_open(instance, "sign_off")
    assert sign_off.unit == lead and sign_off.role == "leader"
    complete(cast.city_leader, sign_off)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_it_returns_a_parallel_case_to_the_lead_unit_when_a_department_disagrees(
    processes: Any, people: Any, cast: Any
) -> None:
    instance = start(cast.city_clerk, "sample_parallel_approval", cast.city_gov, units=sample_units(cast))
    complete(cast.city_clerk, only_open(instance, "accept"), {"materials": "complete"})
    complete(
        cast.county_reviewer, only_open(instance, "review_1"), {"vote_1": "disagree"}, opinion="不符合规划"
    )
    complete(cast.county_b_clerk, only_open(instance, "review_2"), {"vote_2": "agree"})
    for t in open_tasks(instance, "review_3"):
        complete(t.assignee, t, {"vote_3": "agree"})
    accept = only_open(instance, "accept")
    assert accept.unit == cast.city_gov
    assert open_tasks(instance, "sign_off") == []


def test_it_stops_the_clock_while_supplementing_and_resumes_it(
    processes: Any, people: Any, cast: Any
) -> None:
    instance = start(cast.city_clerk, "sample_parallel_approval", cast.city_gov, units=sample_units(cast))
    legal_before = instance.legal_due_at
    complete(cast.city_clerk, only_open(instance, "accept"), {"materials": "incomplete"})
    supplement = only_open(instance, "supplement")
    assert supplement.clock_stopped
    stop = supplement.clock_stops.get()
    assert stop.automatic and stop.reason == "supplement" and stop.ended_at is None
    with pytest.raises(FlowError, match="办理意见"):
        complete(cast.city_clerk, supplement, opinion="")
    complete(cast.city_clerk, supplement, opinion="申请人已补齐材料")
    stop.refresh_from_db()
    assert stop.ended_at is not None and stop.stopped_working_days == 0  # same day: nothing moves
    instance.refresh_from_db()
    assert instance.legal_due_at == legal_before
    assert {t.step_id for t in open_tasks(instance)} == {"review_1", "review_2", "review_3"}


def test_it_resumes_exactly_where_it_was_from_the_stored_state(
    processes: Any, people: Any, cast: Any
) -> None:
    instance = start(cast.city_clerk, "sample_parallel_approval", cast.city_gov, units=sample_units(cast))
    complete(cast.city_clerk, only_open(instance, "accept"), {"materials": "complete"})
    complete(cast.county_reviewer, only_open(instance, "review_1"), {"vote_1": "agree"})
    # A fresh process: no cached specs, the row read back from the database.
    engine.spec_cache_clear()
    stored = ProcessInstance.objects.get(pk=instance.pk)
    workflow = engine.workflow_load(stored.definition, stored.state, stored.serializer_version)
    ready = {engine.step_id(t) for t in engine.ready_user_tasks(workflow)}
    assert ready == {"review_2", "review_3"}
    assert {str(t.id) for t in engine.ready_user_tasks(workflow)} == {
        str(t.spiff_task_id) for t in open_tasks(instance)
    }
    assert engine.workflow_state(workflow) == stored.state  # nothing lost or changed on the way
    # PostgreSQL's jsonb does not keep the tasks' order; children stored before parents lose nothing.
    shuffled = {**stored.state, "tasks": dict(reversed(list(stored.state["tasks"].items())))}
    jumbled = engine.workflow_load(stored.definition, shuffled, stored.serializer_version)
    assert all(t.data["units"]["dept_2"] == cast.county_b_gov.pk for t in engine.ready_user_tasks(jumbled))
    assert engine.workflow_state(jumbled) == stored.state
    # The same state as SpiffWorkflow's JSON text restores to the same workflow.
    again = engine.workflow_load(stored.definition, engine.workflow_dump(workflow), stored.serializer_version)
    assert engine.workflow_state(again) == stored.state
    complete(cast.county_b_clerk, only_open(instance, "review_2"), {"vote_2": "agree"})
    for t in open_tasks(instance, "review_3"):
        complete(t.assignee, t, {"vote_3": "agree"})
    complete(cast.city_leader, only_open(instance, "sign_off"))
    assert ProcessInstance.objects.get(pk=instance.pk).status == InstanceStatus.COMPLETED


def test_it_migrates_a_state_written_by_an_older_serializer(processes: Any, people: Any) -> None:
    instance = start(people.starter, "countersign_review", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "draft"))
    # Rewrite the state the way serializer 1.3 stored it: a running multi-instance task was WAITING (8),
    # not STARTED (32). Loading must upgrade it through 1.4 and 1.5 and carry on.
    instance.refresh_from_db()
    old = copy.deepcopy(instance.state)
    old["serializer_version"] = "1.3"
    mi = [t for t in old["tasks"].values() if t["task_spec"] == "countersign" and t["state"] == 32]
    assert len(mi) == 1
    mi[0]["state"] = 8
    ProcessInstance.objects.filter(pk=instance.pk).update(state=old, serializer_version="1.3")
    engine.spec_cache_clear()
    loaded = engine.workflow_load(instance.definition, json.dumps(old), "1.3")
    states = {t.state for t in loaded.get_tasks() if t.task_spec.name == "countersign"}
    assert TaskState.STARTED in states and TaskState.WAITING not in states
    signs = open_tasks(instance, "countersign")
    for t in signs:
        complete(t.assignee, t, {"vote": "agree"})
    stored = ProcessInstance.objects.get(pk=instance.pk)
    assert stored.serializer_version == engine.CURRENT_VERSION
    assert only_open(instance, "sign_off")


def test_it_refuses_an_unknown_serializer_version(processes: Any, people: Any) -> None:
    with pytest.raises(FlowError, match="无法识别"):
        engine.state_migrate({}, "0.9")


def test_it_keeps_running_instances_on_their_version_when_a_new_one_is_published(
    processes: Any, people: Any, cast: Any
) -> None:
    old_definition = processes["simple_approval"]
    running = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(running, "register"))
    # Version 2 renames the review step and adds a limit.
    xml = old_definition.bpmn_xml.replace('name="审核"', 'name="复核"')
    v2, created = services.definition_publish(actor=cast.system_admin, bpmn_xml=xml)
    assert created and v2.version == 2 and v2.key == "simple_approval"
    same, created_again = services.definition_publish(actor=cast.system_admin, bpmn_xml=xml)
    assert not created_again and same.pk == v2.pk
    fresh = start(people.starter, "simple_approval", people.starter.primary_unit)
    assert fresh.definition_id == v2.pk
    running.refresh_from_db()
    assert running.definition_id == old_definition.pk
    review = only_open(running, "review")
    assert review.name == "审核"
    complete(people.reviewer, review)
    complete(people.leader, only_open(running, "sign_off"))
    running.refresh_from_db()
    assert running.status == InstanceStatus.COMPLETED
    complete(people.starter, only_open(fresh, "register"))
    assert only_open(fresh, "review").name == "复核"
    assert ProcessDefinition.objects.filter(key="simple_approval").count() == 2
