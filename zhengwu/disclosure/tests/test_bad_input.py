"""Bad input on the disclosure pages: a clear Chinese message, a 4xx, and nothing written."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from zhengwu.disclosure.models import DisclosureRequest, RequestStatus
from zhengwu.disclosure.tests.conftest import Desk, submit, to_reply
from zhengwu.flow.models import ProcessInstance

pytestmark = pytest.mark.django_db


def _form(desk: Desk, **changes: Any) -> dict[str, Any]:
    return {
        "unit": desk.cast.township_a1_gov.pk,
        "applicant_name": "张三",
        "id_number": "620802199001011234",
        "phone": "13800001234",
        "description": "2025年崆峒镇财政预算执行情况",
        "delivery_form": "online",
        "token": secrets.token_urlsafe(24),
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"description": ""}, "请填写所需信息的名称或内容描述"),
        ({"description": "长" * 2001}, "不能超过 2000 字"),
        ({"applicant_name": ""}, "请填写申请人姓名或名称"),
        ({"id_number": "12"}, "证件号码格式不正确"),
        ({"phone": "电话"}, "联系电话格式不正确"),
        ({"delivery_form": "pigeon"}, "请选择获取信息的方式"),
        ({"delivery_form": "email"}, "请填写电子邮箱"),
        ({"unit": "99999"}, "请选择受理机关"),
        ({"token": ""}, "页面已过期"),
    ],
)
def test_it_refuses_a_bad_application_and_writes_nothing(
    desk: Desk, client_for: Any, changes: dict[str, Any], message: str
) -> None:
    response = client_for(desk.applicant).post("/disclosure/apply/", _form(desk, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert DisclosureRequest.objects.count() == 0 and ProcessInstance.objects.count() == 0


def test_it_accepts_a_double_submit_only_once(desk: Desk, client_for: Any) -> None:
    citizen = client_for(desk.applicant)
    form = _form(desk)
    first = citizen.post("/disclosure/apply/", form)
    assert first.status_code == 302
    again = citizen.post("/disclosure/apply/", form)
    assert again.status_code == 400 and "请勿重复提交" in again.content.decode()
    assert DisclosureRequest.objects.count() == 1 and ProcessInstance.objects.count() == 1


def test_it_refuses_staff_accounts_and_anonymous_applicants(desk: Desk, client_for: Any, client: Any) -> None:
    assert client_for(desk.clerk).post("/disclosure/apply/", _form(desk)).status_code == 403
    assert client.post("/disclosure/apply/", _form(desk)).status_code == 302  # to the public sign-in
    assert DisclosureRequest.objects.count() == 0


def test_it_refuses_steps_in_the_wrong_state_and_incomplete_replies(desk: Desk, client_for: Any) -> None:
    request = submit(desk)
    clerk = client_for(desk.clerk)
    url = f"/disclosure/requests/{request.pk}/"
    response = clerk.post(f"{url}reply/", {"outcome": "public", "reply_text": "答复"})
    assert response.status_code == 400 and "不在答复环节" in response.content.decode()
    # Only the applicant answers a supplement request.
    assert clerk.post(f"{url}answer/", {"answer": "补正"}).status_code == 403
    to_reply(desk, request)
    response = clerk.post(f"{url}reply/", {"outcome": "withheld", "reply_text": "不予公开"})
    assert response.status_code == 400 and "法定理由" in response.content.decode()
    response = clerk.post(f"{url}reply/", {"outcome": "public", "reply_text": "答" * 5001})
    assert response.status_code == 400 and "不能超过 5000 字" in response.content.decode()
    response = clerk.post(f"{url}reply/", {"outcome": "maybe", "reply_text": "答复"})
    assert response.status_code == 400 and "请选择答复类型" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.REPLY and request.outcome == "" and request.replied_at is None
    response = client_for(desk.applicant).post(f"{url}answer/", {"answer": "补正"})
    assert response.status_code == 400 and "不需要补正" in response.content.decode()


def test_it_refuses_a_reply_completed_from_the_generic_to_do_page(desk: Desk, client_for: Any) -> None:
    from zhengwu.flow.models import Task

    request = to_reply(desk, submit(desk))
    task = Task.objects.get(instance_id=request.instance_id, step_id="reply", status="open")
    response = client_for(desk.clerk).post(f"/flow/tasks/{task.pk}/complete/", {"opinion": "已答复"})
    assert response.status_code == 400 and "答复类型" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.REPLY and request.replied_at is None
    task.refresh_from_db()
    assert task.status == "open"
