"""Who may see and act on a disclosure request: the applicant and the receiving unit's staff only —
another unit's staff and another citizen get 404, by guessed ids too; steps go to their roles."""

from __future__ import annotations

from typing import Any

import pytest

from zhengwu.disclosure.models import DisclosureRequest, RequestStatus
from zhengwu.disclosure.tests.conftest import Desk, submit

pytestmark = pytest.mark.django_db


def test_it_hides_a_unit_s_requests_from_another_unit_and_other_citizens(desk: Desk, client_for: Any) -> None:
    request = submit(desk)
    url = f"/disclosure/requests/{request.pk}/"
    other_unit = client_for(desk.other_clerk)
    assert other_unit.get(url).status_code == 404
    assert other_unit.get(f"/disclosure/requests/{request.pk + 1000}/").status_code == 404
    for action in ("register", "supplement", "handle", "extension", "reply", "publish"):
        response = other_unit.post(
            f"{url}{action}/", {"opinion": "越权", "question": "越权", "decision": "agree"}
        )
        assert response.status_code == 404, action
    assert "YSQ" not in other_unit.get("/disclosure/manage/").content.decode()
    assert other_unit.get("/disclosure/manage/", {"unit": desk.cast.township_a1_gov.pk}).status_code == 404
    someone_else = client_for(desk.cast.enterprise)
    assert someone_else.get(url).status_code == 404
    assert someone_else.post(f"{url}answer/", {"answer": "冒充"}).status_code == 404
    request.refresh_from_db()
    assert request.status == RequestStatus.REGISTER


def test_it_shows_the_unit_its_requests_masked_and_the_applicant_their_own(
    desk: Desk, client_for: Any
) -> None:
    request = submit(desk)
    page = client_for(desk.clerk).get("/disclosure/manage/").content.decode()
    assert request.number in page and "张*" in page and "138****1234" in page
    assert "13800001234" not in page and "620802199001011234" not in page
    mine = client_for(desk.applicant).get("/disclosure/my/").content.decode()
    assert request.number in mine
    assert request.number not in client_for(desk.cast.enterprise).get("/disclosure/my/").content.decode()


def test_it_lets_only_the_step_s_role_act(desk: Desk, client_for: Any) -> None:
    request = submit(desk)
    url = f"/disclosure/requests/{request.pk}/"
    # The leader of A1 is staff of the unit but holds no clerk role: 登记受理 is not theirs.
    assert client_for(desk.leader).post(f"{url}register/").status_code == 403
    # The applicant cannot use the staff pages.
    assert client_for(desk.applicant).post(f"{url}register/").status_code == 403
    assert client_for(desk.clerk).post(f"{url}register/", {"opinion": "受理"}).status_code == 302
    assert DisclosureRequest.objects.get(pk=request.pk).status == RequestStatus.HANDLE


def test_it_puts_the_disclosure_desk_on_the_unit_staff_s_workbench(desk: Desk, client_for: Any) -> None:
    page = client_for(desk.clerk).get("/workbench/").content.decode()
    assert "政务公开" in page and "/disclosure/manage/" in page
    assert client_for(desk.applicant).get("/disclosure/manage/").status_code == 403


def test_it_sends_the_unit_s_to_do_to_the_request_page(desk: Desk, client_for: Any) -> None:
    from zhengwu.flow.models import Task

    request = submit(desk)
    task = Task.objects.get(instance_id=request.instance_id, step_id="register", status="open")
    page = client_for(desk.clerk).get(f"/flow/tasks/{task.pk}/").content.decode()
    assert f'href="/disclosure/requests/{request.pk}/"' in page
