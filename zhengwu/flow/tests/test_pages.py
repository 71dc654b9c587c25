"""The pages: workbench lists, the task page's actions, refusals with a message and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.models import AuditEvent
from zhengwu.flow.models import InstanceStatus, ReadItem, SampleCase, Task, TaskStatus
from zhengwu.flow.tests.helpers import complete, only_open, open_tasks, start
from zhengwu.notify.models import Notice

pytestmark = pytest.mark.django_db


def test_it_lists_todo_done_and_to_read_on_the_workbench(
    processes: Any, people: Any, client_for: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit, title="请示甲")
    register = only_open(instance, "register")
    page = client_for(people.starter).get(reverse("workbench:home")).content.decode()
    assert "登记：请示甲" in page and register.get_absolute_url() in page
    complete(people.starter, register)
    review = only_open(instance, "review")
    page = client_for(people.reviewer2).get(reverse("workbench:home")).content.decode()
    assert "审核：请示甲" in page  # a role task for both reviewers until one claims it
    page = client_for(people.starter).get(reverse("workbench:home")).content.decode()
    assert 'data-testid="todo-count">0<' in page and "登记：请示甲" in page  # now under 已办
    from zhengwu.flow import services

    services.task_circulate(actor=people.starter, task=register, recipients=[people.leader], note="请阅知")
    page = client_for(people.leader).get(reverse("workbench:home")).content.decode()
    assert 'data-testid="to-read-count">1<' in page and "请示甲" in page
    lists = client_for(people.reviewer).get(reverse("flow:tasks")).content.decode()
    assert review.get_absolute_url() in lists and "待签收" in lists
    done = client_for(people.starter).get(reverse("flow:tasks") + "?tab=done").content.decode()
    assert register.get_absolute_url() in done
    reading = client_for(people.leader).get(reverse("flow:tasks") + "?tab=to_read").content.decode()
    assert "请阅知" in reading and "未阅" in reading


def test_it_claims_and_completes_through_the_task_page(processes: Any, people: Any, client_for: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    client = client_for(people.starter)
    register = only_open(instance, "register")
    page = client.get(register.get_absolute_url()).content.decode()
    assert 'data-testid="complete-form"' in page
    response = client.post(reverse("flow:task_complete", args=[register.pk]), {"opinion": "已登记"})
    assert response.status_code == 302 and response["Location"] == instance.get_absolute_url()
    review = only_open(instance, "review")
    reviewer = client_for(people.reviewer)
    page = reviewer.get(review.get_absolute_url()).content.decode()
    assert 'data-testid="claim"' in page and 'data-testid="complete-form"' not in page  # 签收 first
    assert reviewer.post(reverse("flow:task_claim", args=[review.pk])).status_code == 302
    assert 'data-testid="complete-form"' in reviewer.get(review.get_absolute_url()).content.decode()
    review.refresh_from_db()
    assert review.assignee == people.reviewer and review.claimed_at is not None
    again = reviewer.post(reverse("flow:task_claim", args=[review.pk]))
    assert again.status_code == 400 and "您已签收该事项" in again.content.decode()
    assert (
        reviewer.post(reverse("flow:task_complete", args=[review.pk]), {"opinion": "同意"}).status_code == 302
    )
    sign_off = only_open(instance, "sign_off")
    leader = client_for(people.leader)
    leader.post(reverse("flow:task_complete", args=[sign_off.pk]), {"opinion": "签发"})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    page = leader.get(instance.get_absolute_url()).content.decode()
    assert "已办结" in page and "签发" in page


def test_it_refuses_a_bad_form_with_a_message_and_writes_nothing(
    processes: Any, people: Any, client_for: Any
) -> None:
    instance = start(people.starter, "countersign_review", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "draft"))
    sign = open_tasks(instance, "countersign")[0]
    client = client_for(sign.assignee)
    audit_before = AuditEvent.objects.count()
    state_before = type(instance).objects.get(pk=instance.pk).state
    for bad in (
        {"vote": "maybe", "opinion": "x"},
        {"opinion": "x"},
        {"vote": "agree", "opinion": "长" * 2001},
    ):
        response = client.post(reverse("flow:task_complete", args=[sign.pk]), bad)
        assert response.status_code == 400
        assert "请检查表单中标出的错误" in response.content.decode()
    sign.refresh_from_db()
    assert sign.status == TaskStatus.OPEN and AuditEvent.objects.count() == audit_before
    assert type(instance).objects.get(pk=instance.pk).state == state_before
    ok = client.post(reverse("flow:task_complete", args=[sign.pk]), {"vote": "agree", "opinion": "同意"})
    assert ok.status_code == 302
    again = client.post(reverse("flow:task_complete", args=[sign.pk]), {"vote": "agree", "opinion": "同意"})
    assert again.status_code == 404  # no longer theirs to act on: a double submit changes nothing
    assert Task.objects.get(pk=sign.pk).form_data == {"vote": "agree"}


def test_it_sends_back_transfers_and_circulates_from_the_task_page(
    processes: Any, people: Any, client_for: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    review = only_open(instance, "review")
    reviewer = client_for(people.reviewer)
    reviewer.post(reverse("flow:task_claim", args=[review.pk]))
    page = reviewer.get(review.get_absolute_url()).content.decode()
    assert "退回到" in page and "转办给" in page
    # A transfer outside the unit is not even offered; forcing it is refused with nothing written.
    outsider = reviewer.post(
        reverse("flow:task_transfer", args=[review.pk]), {"to_user": people.starter.pk - 1000}
    )
    assert outsider.status_code == 400
    review.refresh_from_db()
    assert review.assignee == people.reviewer
    response = reviewer.post(
        reverse("flow:task_transfer", args=[review.pk]), {"to_user": people.reviewer2.pk, "reason": "请假"}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.assignee == people.reviewer2 and review.transferred_from == people.reviewer
    assert Notice.objects.filter(recipient=people.reviewer2, title__contains="转办给您").exists()
    second = client_for(people.reviewer2)
    no_reason = second.post(reverse("flow:task_send_back", args=[review.pk]), {"target": "x", "reason": ""})
    assert no_reason.status_code == 400
    from zhengwu.flow import services

    (target,) = [t for t, name in services.send_back_targets(review) if name == "登记"]
    response = second.post(
        reverse("flow:task_send_back", args=[review.pk]), {"target": target, "reason": "材料不全"}
    )
    assert response.status_code == 302
    register = only_open(instance, "register")
    assert register.assignee == people.starter
    assert Notice.objects.filter(recipient=people.starter, title__startswith="退回").exists()
    circulate = client_for(people.starter).post(
        reverse("flow:task_circulate", args=[register.pk]), {"recipients": [people.leader.pk], "note": "请阅"}
    )
    assert circulate.status_code == 302
    item = ReadItem.objects.get(recipient=people.leader)
    client_for(people.leader).get(reverse("flow:read_item", args=[item.pk]))
    page = client_for(people.starter).get(instance.get_absolute_url()).content.decode()
    assert "马镇长" in page and "已阅" in page  # the read receipt
    history = page.split('data-testid="history"')[1]
    assert 'data-action="sent_back"' in history and "退回 材料不全" not in history and "材料不全" in history


def test_it_urges_from_the_case_page(processes: Any, people: Any, client_for: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    review = only_open(instance, "review")
    starter = client_for(people.starter)
    assert starter.post(reverse("flow:task_urge", args=[review.pk]), {"note": "请尽快"}).status_code == 302
    assert set(Notice.objects.filter(title__startswith="催办").values_list("recipient_id", flat=True)) == {
        people.reviewer.pk,
        people.reviewer2.pk,
    }
    again = starter.post(reverse("flow:task_urge", args=[review.pk]))
    assert again.status_code == 400 and "刚刚催办过" in again.content.decode()
    review.refresh_from_db()
    assert review.urge_count == 1
    assert AuditEvent.objects.filter(action="flow.task.urge", object_id=str(review.pk)).count() == 1


def test_it_starts_the_sample_from_its_page(processes: Any, people: Any, cast: Any, client_for: Any) -> None:
    client = client_for(cast.city_clerk)
    page = client.get(reverse("flow:sample_cases")).content.decode()
    assert "并联部门一" in page
    form = {
        "title": "某某项目立项",
        "applicant": "某某公司",
        "lead": cast.city_gov.pk,
        "dept_1": cast.county_a_gov.pk,
        "dept_2": cast.county_b_gov.pk,
        "dept_3": cast.county_b_gov.pk,
    }
    duplicate = client.post(reverse("flow:sample_cases"), form)
    assert duplicate.status_code == 400 and "不能重复" in duplicate.content.decode()
    assert not SampleCase.objects.exists()
    not_mine = client.post(
        reverse("flow:sample_cases"),
        {**form, "dept_3": cast.township_a1_gov.pk, "lead": cast.county_a_gov.pk},
    )
    assert not_mine.status_code == 400 and not SampleCase.objects.exists()
    response = client.post(reverse("flow:sample_cases"), {**form, "dept_3": cast.township_a1_gov.pk})
    assert response.status_code == 302
    case = SampleCase.objects.get()
    assert case.status == "in_progress" and case.current_step == "受理"
    assert response["Location"] in client.get(reverse("flow:sample_cases")).content.decode()
    page = client.get(response["Location"]).content.decode()
    assert 'data-bpmn-url="' in page and "&quot;current&quot;: [&quot;accept&quot;]" in page
    assert "bpmn-viewer.production.min.js" in page and "<script>" not in page


def test_it_shows_a_steps_own_history_on_its_page(processes: Any, people: Any, client_for: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    complete(people.starter, register, opinion="已登记完毕")
    page = client_for(people.starter).get(register.get_absolute_url()).content.decode()
    assert "本环节办理记录" in page and 'data-action="completed"' in page and "已登记完毕" in page


def test_it_shows_the_deadline_arithmetic(processes: Any, people: Any, client_for: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    page = client_for(people.starter).get(reverse("flow:task_deadline", args=[register.pk])).content.decode()
    assert "期限计算过程" in page and "环节时限" in page and "办件法定时限" in page
    assert page.count('data-testid="due-explanation"') == 3  # step 1wd, case 10wd legal and 5wd promised
    assert register.due_at.astimezone().strftime("%-d日") in page
