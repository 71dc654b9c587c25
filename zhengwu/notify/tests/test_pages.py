"""Pages: my notices (every account) and the delivery record (platform system admins only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from zhengwu.core.models import AuditEvent
from zhengwu.notify.models import Channel, Delivery, DeliveryStatus, Notice
from zhengwu.notify.services import notification_send


@pytest.fixture
def record(cast: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Delivery]:
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[cast.township_clerk, cast.citizen],
            title="办件受理通知",
            channels=("app", "sms"),
            key="case-101-accepted",
        )
    sent = Delivery.objects.get(recipient=cast.township_clerk)
    failed = Delivery.objects.get(recipient=cast.citizen)
    Delivery.objects.filter(pk=failed.pk).update(
        status=DeliveryStatus.FAILED, last_error="短信网关返回 isv.MOBILE_NUMBER_ILLEGAL：非法手机号"
    )
    failed.refresh_from_db()
    return {"sent": sent, "failed": failed}


def test_it_shows_platform_admins_every_delivery_with_masked_numbers(
    cast: Any, client_for: Any, record: dict[str, Delivery]
) -> None:
    response = client_for(cast.system_admin).get(reverse("notify:delivery_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "139****0001" in html
    assert "138****1234" in html
    assert "13900000001" not in html
    assert "13800001234" not in html
    assert "isv.MOBILE_NUMBER_ILLEGAL" in html
    assert "重新发送" in html


def test_it_filters_the_delivery_record(cast: Any, client_for: Any, record: dict[str, Delivery]) -> None:
    client = client_for(cast.system_admin)
    failed_only = client.get(reverse("notify:delivery_list"), {"status": "failed", "channel": "sms"})
    assert list(failed_only.context["page"]) == [record["failed"]]
    by_name = client.get(reverse("notify:delivery_list"), {"q": "李文书"})
    assert list(by_name.context["page"]) == [record["sent"]]
    by_key = client.get(reverse("notify:delivery_list"), {"key": "case-101-accepted"})
    assert len(by_key.context["page"]) == 2
    by_day = client.get(reverse("notify:delivery_list"), {"since": "2000-01-01", "until": "2000-01-02"})
    assert list(by_day.context["page"]) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-13-45"}, "开始日期不是有效日期"),
        ({"since": "2026-05-02", "until": "2026-05-01"}, "开始日期不能晚于结束日期"),
        ({"status": "lost"}, "未知的发送状态"),
        ({"q": "张" * 65}, "查询条件过长"),
    ],
)
def test_it_answers_bad_filters_with_a_clear_message(
    cast: Any, client_for: Any, params: dict[str, str], message: str
) -> None:
    response = client_for(cast.system_admin).get(reverse("notify:delivery_list"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("who", ["township_admin", "audit_admin", "security_admin", "supervisor", "citizen"])
def test_it_keeps_the_delivery_record_from_everyone_else(
    cast: Any, client_for: Any, record: dict[str, Delivery], who: str
) -> None:
    client = client_for(getattr(cast, who))
    assert client.get(reverse("notify:delivery_list")).status_code == 403
    resend = client.post(reverse("notify:delivery_resend", args=[record["failed"].pk]))
    assert resend.status_code == 403
    record["failed"].refresh_from_db()
    assert record["failed"].status == DeliveryStatus.FAILED


def test_it_sends_anonymous_visitors_to_sign_in(client: Any) -> None:
    response = client.get(reverse("notify:delivery_list"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_lets_a_system_admin_resend_a_failed_delivery_and_records_it(
    cast: Any, client_for: Any, record: dict[str, Delivery], django_capture_on_commit_callbacks: Any
) -> None:
    failed = record["failed"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.system_admin).post(reverse("notify:delivery_resend", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.SENT
    assert failed.attempts == 2
    event = AuditEvent.objects.get(action="delivery.resend")
    assert event.actor_id == cast.system_admin.pk
    assert event.before["status"] == "failed"


def test_it_refuses_to_resend_what_did_not_fail(
    cast: Any, client_for: Any, record: dict[str, Delivery]
) -> None:
    client = client_for(cast.system_admin)
    response = client.post(reverse("notify:delivery_resend", args=[record["sent"].pk]))
    assert response.status_code == 400
    assert "只有发送失败的记录可以重新发送" in response.content.decode()
    missing = client.post(reverse("notify:delivery_resend", args=[999999]))
    assert missing.status_code == 400
    assert "发送记录不存在" in missing.content.decode()
    assert client.get(reverse("notify:delivery_resend", args=[record["failed"].pk])).status_code == 405
    assert not AuditEvent.objects.filter(action="delivery.resend").exists()
    assert Delivery.objects.get(pk=record["sent"].pk).attempts == 1


def test_it_shows_people_only_their_own_notices(cast: Any, client_for: Any) -> None:
    notification_send(recipients=[cast.township_clerk], title="请签收崆峒区政府来文", url="/workbench/")
    notification_send(recipients=[cast.county_reviewer], title="审核任务待办")
    response = client_for(cast.township_clerk).get(reverse("notify:inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "请签收崆峒区政府来文" in html
    assert "审核任务待办" not in html
    assert "1 条未读" in html


def test_it_marks_a_notice_read_and_opens_its_page(cast: Any, client_for: Any) -> None:
    notification_send(recipients=[cast.township_clerk], title="请签收", url="/workbench/")
    notice = Notice.objects.get()
    client = client_for(cast.township_clerk)
    response = client.post(reverse("notify:notice_read", args=[notice.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/workbench/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_it_does_not_follow_a_notice_link_off_the_site(cast: Any, client_for: Any) -> None:
    notification_send(recipients=[cast.township_clerk], title="外链", url="https://evil.example.com/")
    notice = Notice.objects.get()
    response = client_for(cast.township_clerk).post(
        reverse("notify:notice_read", args=[notice.pk]), {"open": "1"}
    )
    assert response["Location"] == reverse("notify:inbox")


def test_it_hides_other_peoples_notices_by_id(cast: Any, client_for: Any) -> None:
    notification_send(recipients=[cast.county_reviewer], title="审核任务待办")
    notice = Notice.objects.get()
    client = client_for(cast.township_clerk)
    assert client.post(reverse("notify:notice_read", args=[notice.pk])).status_code == 404
    assert client.post(reverse("notify:notice_read", args=[notice.pk + 1000])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_it_marks_all_notices_read(cast: Any, client_for: Any) -> None:
    notification_send(recipients=[cast.citizen], title="办件已受理")
    notification_send(recipients=[cast.citizen], title="办件已办结")
    notification_send(recipients=[cast.county_reviewer], title="别人的")
    response = client_for(cast.citizen).post(reverse("notify:notices_read_all"))
    assert response.status_code == 302
    assert not Notice.objects.filter(recipient=cast.citizen, read_at__isnull=True).exists()
    assert Notice.objects.filter(recipient=cast.county_reviewer, read_at__isnull=True).count() == 1


def test_it_records_email_subjects_in_the_delivery_record(
    cast: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipients=[cast.enterprise], title="年报提醒", channels=("email",))
    delivery = Delivery.objects.get(channel=Channel.EMAIL)
    html = client_for(cast.system_admin).get(reverse("notify:delivery_list")).content.decode()
    assert "c***@example.com" in html
    assert "company@example.com" not in html
    assert delivery.status == DeliveryStatus.SENT
