"""Adjusting a department's part of a received document after 批办: the section's head or clerk re-assigns
its to-do inside the department (科室内改派), and the leader who gave the instruction extends one
department's limit in working days (延长办理时限). Both with a reason, in the trail, the people told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from zhengwu.core.models import AuditEvent
from zhengwu.documents import services
from zhengwu.documents.models import IncomingPart, IncomingStatus
from zhengwu.documents.services import DocumentError
from zhengwu.documents.tests.conftest import dept_staff
from zhengwu.documents.tests.test_receiving import Receiving, _instruct_post, _open, _page, rcv  # noqa: F401
from zhengwu.flow.deadlines import deadline_sweep
from zhengwu.flow.models import InstanceEvent, Task, TaskStatus
from zhengwu.notify.models import Notice
from zhengwu.testing.cast import _staff
from zhengwu.workdays.calendar import Limit, due_at

pytestmark = pytest.mark.django_db


@dataclass
class Team:
    r: Receiving
    head: Any  # 应急科 head (a post in the department, the unit's reviewer role)
    colleague: Any  # another member of 应急科
    forestry_clerk: Any  # 林业科 clerk: runs another department
    lead: IncomingPart
    co: IncomingPart

    @property
    def url(self) -> str:
        return f"/documents/incoming/{self.r.record.receipt_id}/"


@pytest.fixture
def team(rcv: Receiving, client_for: Any) -> Team:  # noqa: F811
    a = rcv.office.cast.county_a_gov
    head = dept_staff("kd_yj_head", "应急科周科长", a, "应急科", ["reviewer"])
    colleague = dept_staff("kd_yj_2", "应急科孙干事", a, "应急科", [])
    forestry_clerk = dept_staff("kd_ly_clerk", "林业科内勤吴", a, "林业科", ["clerk"])
    assert (
        client_for(rcv.leader)
        .post(f"/documents/incoming/{rcv.record.receipt_id}/instruct/", _instruct_post(rcv))
        .status_code
        == 302
    )
    parts = {p.department_id: p for p in IncomingPart.objects.select_related("task")}
    return Team(
        rcv, head, colleague, forestry_clerk, parts[rcv.dept_emergency.pk], parts[rcv.dept_forestry.pk]
    )


def _audits(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_it_lets_the_department_head_reassign_its_part_to_a_colleague(team: Team, client_for: Any) -> None:
    t, r = team, team.r
    task_id = t.lead.task_id
    # The head sees the re-assignment form for their own department only, and no extension form.
    page = _page(client_for(t.head), r.record)
    assert f'data-testid="reassign-{r.dept_emergency.pk}"' in page
    assert f'data-testid="reassign-{r.dept_forestry.pk}"' not in page and 'data-testid="extend-' not in page
    assert 'data-testid="reassign-' not in _page(client_for(r.emergency), r.record)
    response = client_for(t.head).post(
        t.url + "reassign/", {"part": t.lead.pk, "handler": t.colleague.pk, "reason": "王科长出差"}
    )
    assert response.status_code == 302
    t.lead.refresh_from_db()
    task = Task.objects.get(pk=task_id)
    assert (t.lead.handler_id, task.assignee_id, task.status) == (t.colleague.pk, t.colleague.pk, "open")
    # The new handler is told and holds the to-do; the former one no longer has it among their to-dos.
    assert Notice.objects.filter(recipient=t.colleague, title__startswith="改派给您承办").exists()
    assert Notice.objects.filter(
        recipient=r.emergency, title__startswith="承办事项已改派给应急科孙干事"
    ).exists()
    # (Colleagues of the unit may still read the step; acting on it is for its holder only.)
    assert (
        client_for(r.emergency).post(f"/flow/tasks/{task_id}/complete/", {"opinion": "已办"}).status_code
        == 404
    )
    from zhengwu.flow.selectors import todos_for

    assert task_id not in [x.pk for x in todos_for(r.emergency)]
    assert task_id in [x.pk for x in todos_for(t.colleague)]
    assert (
        client_for(r.emergency).post(t.url + "step/", {"task": task_id, "opinion": "已办"}).status_code == 403
    )
    assert Task.objects.get(pk=task_id).status == TaskStatus.OPEN
    # In the trail and on the record page, with the reason.
    assert _audits("documents.incoming.reassign") == 1
    event = InstanceEvent.objects.get(task_id=task_id, action="transferred")
    assert "王科长出差" in event.note and "应急科孙干事" in event.note
    page = _page(client_for(r.leader), r.record)
    assert "改派与延期记录" in page and "王科长出差" in page
    # The new handler completes the part, and as the lead department's handler also gets the reply.
    done = client_for(t.colleague).post(t.url + "step/", {"task": task_id, "opinion": "已部署"})
    assert done.status_code == 302
    assert (
        client_for(r.forestry).post(t.url + "step/", {"task": t.co.task_id, "opinion": "已配合"}).status_code
        == 302
    )
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.REPLY
    reply = _open(r.record)
    assert (reply.step_id, reply.assignee_id) == ("reply", t.colleague.pk)


@pytest.mark.parametrize(
    ("who", "data", "status", "message"),
    [
        ("outsider", {}, 404, ""),  # another unit's clerk: the record does not exist for them
        ("forestry_clerk", {}, 403, "只有科室“应急科”的负责人或内勤可以改派"),  # another department
        ("handler", {}, 403, "只有科室“应急科”的负责人或内勤可以改派"),  # the handler themself
        ("head", {"handler": "forestry"}, 400, "新的承办人须在科室“应急科”任职"),
        ("head", {"handler": "abc"}, 400, "请选择新的承办人"),
        ("head", {"reason": "  "}, 400, "请填写改派理由"),
        ("head", {"reason": "长" * 501}, 400, "理由不超过 500 字"),
        ("head", {"part": "999999"}, 400, "承办科室不存在"),
        ("head", {"handler": "handler"}, 400, "已是该科室的承办人"),
    ],
)
def test_it_refuses_a_bad_reassignment_in_chinese_and_writes_nothing(
    team: Team, client_for: Any, who: str, data: dict[str, str], status: int, message: str
) -> None:
    t, r = team, team.r
    people = {
        "outsider": r.office.clerk_b,
        "forestry_clerk": t.forestry_clerk,
        "handler": r.emergency,
        "head": t.head,
        "forestry": r.forestry,
    }
    post = {"part": str(t.lead.pk), "handler": str(t.colleague.pk), "reason": "调整分工"}
    post.update({k: str(people[v].pk) if v in people else v for k, v in data.items()})
    response = client_for(people[who]).post(t.url + "reassign/", post)
    assert response.status_code == status
    if message:
        assert message in response.content.decode()
    t.lead.refresh_from_db()
    assert (t.lead.handler_id, Task.objects.get(pk=t.lead.task_id).assignee_id) == (
        r.emergency.pk,
        r.emergency.pk,
    )
    assert _audits("documents.incoming.reassign") == 0
    assert not InstanceEvent.objects.filter(action="transferred").exists()
    assert not Notice.objects.filter(recipient=t.colleague).exists()


def test_it_refuses_a_double_reassignment_and_a_finished_part(team: Team, client_for: Any) -> None:
    t, r = team, team.r
    post = {"part": t.lead.pk, "handler": t.colleague.pk, "reason": "调整分工"}
    assert client_for(t.head).post(t.url + "reassign/", post).status_code == 302
    again = client_for(t.head).post(t.url + "reassign/", post)
    assert again.status_code == 400 and "应急科孙干事 已是该科室的承办人" in again.content.decode()
    # Someone already handling another department of this document is not given a second one.
    from zhengwu.core.models import Post, PostAssignment

    post_ly = Post.objects.create(unit=r.record.unit, department=r.dept_forestry, name="林业科兼职")
    PostAssignment.objects.create(user=t.colleague, post=post_ly, is_primary=False)
    with pytest.raises(DocumentError, match="应急科孙干事 已承办本文的另一科室事项"):
        services.incoming_part_reassign(
            actor=t.forestry_clerk, record=r.record, part_id=t.co.pk, handler_id=t.colleague.pk, reason="x"
        )
    # Once the department has finished its part there is nothing to re-assign.
    assert (
        client_for(r.forestry).post(t.url + "step/", {"task": t.co.task_id, "opinion": "已配合"}).status_code
        == 302
    )
    late = client_for(t.forestry_clerk).post(
        t.url + "reassign/", {"part": t.co.pk, "handler": t.forestry_clerk.pk, "reason": "调整"}
    )
    assert late.status_code == 400 and "已办理或已关闭，不能再调整" in late.content.decode()
    assert _audits("documents.incoming.reassign") == 1


# --- 延长办理时限 ------------------------------------------------------------------------------------------


def test_it_lets_the_instructing_leader_extend_one_departments_limit_in_working_days(
    team: Team, client_for: Any
) -> None:
    t, r = team, team.r
    page = _page(client_for(r.leader), r.record)
    assert f'data-testid="extend-{r.dept_emergency.pk}"' in page and 'data-testid="reassign-' not in page
    task = Task.objects.get(pk=t.lead.task_id)
    old_due = task.due_at
    assert old_due is not None
    # The deadline watch has shown the yellow card after the 3 working days ran out.
    deadline_sweep(now=old_due + dt.timedelta(hours=1))
    assert Task.objects.get(pk=task.pk).deadline_state == "yellow"
    response = client_for(r.leader).post(
        t.url + "extend/", {"part": t.lead.pk, "days": "4", "current": "3", "reason": "需会同气象部门研判"}
    )
    assert response.status_code == 302
    t.lead.refresh_from_db()
    task.refresh_from_db()
    assert (t.lead.limit_days, task.limit) == (7, "7wd")
    # Counted in working days from the to-do's start by the government calendar.
    assert task.due_at == due_at(task.started_at, Limit.parse("7wd"))
    assert task.due_at > old_due
    # The other department keeps its own limit.
    co = Task.objects.get(pk=t.co.task_id)
    assert (co.limit, co.due_at) == ("7wd", due_at(co.started_at, Limit.parse("7wd")))
    # The card the new date no longer justifies is taken back; the watch cards it again past the new date.
    assert task.deadline_state in {"normal", "warning"}
    assert task.due_at is not None
    deadline_sweep(now=old_due + dt.timedelta(hours=2))
    assert Task.objects.get(pk=task.pk).deadline_state in {"normal", "warning"}
    deadline_sweep(now=task.due_at + dt.timedelta(hours=1))
    assert Task.objects.get(pk=task.pk).deadline_state == "yellow"
    # The department is told (its handler and its head); the trail and the page keep the reason.
    assert Notice.objects.filter(recipient=r.emergency, title__startswith="办理时限已延长至").exists()
    assert Notice.objects.filter(recipient=t.head, title__startswith="办理时限已延长至").exists()
    assert not Notice.objects.filter(recipient=r.forestry, title__startswith="办理时限已延长至").exists()
    assert _audits("documents.incoming.extend") == 1
    event = InstanceEvent.objects.get(task_id=task.pk, action="extended")
    assert "由 3 个工作日延长至 7 个工作日" in event.note and "需会同气象部门研判" in event.note
    page = _page(client_for(r.emergency), r.record)
    assert "7 个工作日" in page and "需会同气象部门研判" in page


@pytest.mark.parametrize(
    ("who", "data", "status", "message"),
    [
        ("outsider", {}, 404, ""),
        ("other_leader", {}, 403, "只有作出批办的领导可以延长"),  # a leader who did not instruct
        ("handler", {}, 403, "只有作出批办的领导可以延长"),
        ("head", {}, 403, "只有作出批办的领导可以延长"),
        ("leader", {"days": "0"}, 400, "延长的时限应为 1 至 60 个工作日"),
        ("leader", {"days": "61"}, 400, "延长的时限应为 1 至 60 个工作日"),
        ("leader", {"days": "三"}, 400, "请填写延长的工作日数"),
        ("leader", {"reason": ""}, 400, "请填写延长时限理由"),
        ("leader", {"part": "x"}, 400, "承办科室无效"),
        ("leader", {"current": "5"}, 400, "办理时限已调整为 3 个工作日，请刷新页面"),
    ],
)
def test_it_refuses_a_bad_extension_in_chinese_and_writes_nothing(
    team: Team, client_for: Any, who: str, data: dict[str, str], status: int, message: str
) -> None:
    t, r = team, team.r
    people = {
        "outsider": r.office.clerk_b,
        "other_leader": _staff("kd_leader2", "钱副区长", r.record.unit, "副区长", ["leader"]),
        "handler": r.emergency,
        "head": t.head,
        "leader": r.leader,
    }
    before = Task.objects.get(pk=t.lead.task_id)
    post = {"part": str(t.lead.pk), "days": "2", "current": "3", "reason": "情况复杂"}
    post.update(data)
    response = client_for(people[who]).post(t.url + "extend/", post)
    assert response.status_code == status
    if message:
        assert message in response.content.decode()
    t.lead.refresh_from_db()
    after = Task.objects.get(pk=t.lead.task_id)
    assert (t.lead.limit_days, after.limit, after.due_at) == (3, "3wd", before.due_at)
    assert _audits("documents.incoming.extend") == 0
    assert not InstanceEvent.objects.filter(action="extended").exists()


def test_it_refuses_a_double_extension_and_a_finished_part(team: Team, client_for: Any) -> None:
    t, r = team, team.r
    post = {"part": t.lead.pk, "days": "2", "current": "3", "reason": "情况复杂"}
    assert client_for(r.leader).post(t.url + "extend/", post).status_code == 302
    again = client_for(r.leader).post(t.url + "extend/", post)
    assert again.status_code == 400 and "已调整为 5 个工作日" in again.content.decode()
    t.lead.refresh_from_db()
    assert t.lead.limit_days == 5
    assert (
        client_for(r.forestry).post(t.url + "step/", {"task": t.co.task_id, "opinion": "已配合"}).status_code
        == 302
    )
    late = client_for(r.leader).post(t.url + "extend/", {"part": t.co.pk, "days": "2", "reason": "再延"})
    assert late.status_code == 400 and "已办理或已关闭，不能再调整" in late.content.decode()
    assert _audits("documents.incoming.extend") == 1
