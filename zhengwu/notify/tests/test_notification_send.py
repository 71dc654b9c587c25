"""notification_send: notices and deliveries written with the business change, idempotent, limited, quiet."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from freezegun import freeze_time

from zhengwu.notify.gateways import read_sms_file
from zhengwu.notify.models import Channel, Delivery, DeliveryStatus, Notice
from zhengwu.notify.services import notice_send, notification_send, quiet_hours_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_it_writes_notices_and_deliveries_and_sends_them_once_the_business_change_commits(
    cast: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    clerk, leader = cast.township_clerk, cast.city_leader
    leader.email = "leader@pl.gov.cn"
    leader.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification_send(
            recipients=[clerk, leader],
            title="请于明日前签收公文",
            body="平政发〔2026〕12号 待签收",
            url="/workbench/",
            channels=("app", "sms", "email"),
            key="doc-12-receive",
        )
    assert Notice.objects.filter(key="doc-12-receive").count() == 2
    sms = Delivery.objects.get(recipient=clerk, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.SENT
    assert sms.attempts == 1
    assert [line["phone"] for line in read_sms_file()] == ["13900000001"]
    assert read_sms_file()[0]["text"].endswith("请于明日前签收公文")
    # The leader has no mobile: the SMS is recorded as not sent, with the reason; the e-mail goes out.
    no_phone = Delivery.objects.get(recipient=leader, channel=Channel.SMS)
    assert no_phone.status == DeliveryStatus.SUPPRESSED
    assert no_phone.reason == "未登记手机号"
    mail = Delivery.objects.get(recipient=leader, channel=Channel.EMAIL)
    assert mail.status == DeliveryStatus.SENT
    assert [m.to for m in mailoutbox] == [["leader@pl.gov.cn"]]
    assert "http://127.0.0.1:8000/workbench/" in mailoutbox[0].body
    assert mailoutbox[0].extra_headers["Message-ID"] == mail.provider_message_id


def test_it_writes_nothing_when_the_business_change_rolls_back(cast: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        notification_send(recipients=[cast.township_clerk], title="不会发出", channels=("app", "sms"))
        raise RuntimeError("business rule failed")
    assert not Notice.objects.exists()
    assert not Delivery.objects.exists()


def test_it_never_notifies_twice_for_the_same_key(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    for _attempt in range(3):  # the business action retried three times
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notification_send(
                recipients=[cast.township_clerk],
                title="黄牌：受理环节已超期",
                channels=("app", "sms"),
                key="case-7:step-accept:yellow",
            )
    assert Notice.objects.filter(recipient=cast.township_clerk).count() == 1
    assert Delivery.objects.filter(recipient=cast.township_clerk).count() == 1
    assert len(read_sms_file()) == 1


def test_it_writes_a_notice_without_key_every_time(cast: Any) -> None:
    notice_send(recipients=[cast.township_clerk], title="系统维护通知")
    notice_send(recipients=[cast.township_clerk.pk], title="系统维护通知")
    assert Notice.objects.filter(recipient=cast.township_clerk).count() == 2
    assert not Delivery.objects.exists()


def test_it_suppresses_sms_over_the_hourly_limit_and_records_why(
    cast: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_SMS_HOURLY_LIMIT = 3
    for i in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(
                recipients=[cast.township_clerk], title=f"催办第{i + 1}次", channels=("app", "sms")
            )
    statuses = list(
        Delivery.objects.filter(recipient=cast.township_clerk).order_by("id").values_list("status", flat=True)
    )
    assert statuses == ["sent", "sent", "sent", "suppressed", "suppressed"]
    assert Delivery.objects.filter(status=DeliveryStatus.SUPPRESSED).first().reason == (  # type: ignore[union-attr]
        "超过每人每小时 3 条的频率限制"
    )
    assert len(read_sms_file()) == 3
    # The in-app notices are never limited.
    assert Notice.objects.filter(recipient=cast.township_clerk).count() == 5


def test_it_counts_the_limit_per_recipient_and_per_hour(
    cast: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_SMS_HOURLY_LIMIT = 1
    cast.other_township_clerk.mobile = "13900000002"
    cast.other_township_clerk.save(update_fields=["mobile"])
    with freeze_time("2026-05-11 09:00:00+08:00"):
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(recipients=[cast.township_clerk], title="一", channels=("sms",))
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(
                recipients=[cast.township_clerk, cast.other_township_clerk], title="二", channels=("sms",)
            )
    with freeze_time("2026-05-11 10:00:01+08:00"), django_capture_on_commit_callbacks(execute=True):
        notification_send(recipients=[cast.township_clerk], title="三", channels=("sms",))
    sent = [line["text"][-1] for line in read_sms_file()]
    assert sent == ["一", "二", "三"]
    assert [line["phone"] for line in read_sms_file()] == ["13900000001", "13900000002", "13900000001"]


@pytest.mark.parametrize(
    ("local_time", "expected_end"),
    [
        ("2026-05-11 22:30", "2026-05-12 07:00"),
        ("2026-05-12 06:59", "2026-05-12 07:00"),
        ("2026-05-11 21:59", None),
        ("2026-05-12 07:00", None),
    ],
)
def test_it_knows_when_quiet_hours_end(settings: Any, local_time: str, expected_end: str | None) -> None:
    settings.NOTIFY_SMS_QUIET_HOURS = "22:00-07:00"
    now = dt.datetime.fromisoformat(local_time).replace(tzinfo=SHANGHAI)
    end = quiet_hours_until(now)
    expected = dt.datetime.fromisoformat(expected_end).replace(tzinfo=SHANGHAI) if expected_end else None
    assert end == expected


def test_it_defers_ordinary_sms_in_quiet_hours_and_sends_urgent_ones(
    cast: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_SMS_QUIET_HOURS = "22:00-07:00"
    with freeze_time("2026-05-11 23:15:00+08:00"):
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(recipients=[cast.township_clerk], title="明日会议提醒", channels=("sms",))
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(
                recipients=[cast.township_clerk], title="红牌：审批已严重超期", channels=("sms",), urgent=True
            )
    ordinary = Delivery.objects.get(title="明日会议提醒")
    urgent = Delivery.objects.get(title="红牌：审批已严重超期")
    assert ordinary.status == DeliveryStatus.DEFERRED
    assert ordinary.not_before == dt.datetime(2026, 5, 12, 7, 0, tzinfo=SHANGHAI)
    assert ordinary.reason == "夜间免打扰，05-12 07:00 后发送"
    assert urgent.status == DeliveryStatus.SENT
    assert [line["text"] for line in read_sms_file()] == ["【政务平台】红牌：审批已严重超期"]

    # At 07:00 the deferred message goes out (the queue's scheduled task or the recovery sweep).
    from zhengwu.notify.services import delivery_process

    with freeze_time("2026-05-12 06:59:00+08:00"):
        assert delivery_process(ordinary.pk) == "not-due"
    with freeze_time("2026-05-12 07:00:05+08:00"):
        assert delivery_process(ordinary.pk) == "sent"
    assert len(read_sms_file()) == 2


def test_it_uses_the_verification_template_with_its_parameters(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[cast.citizen],
            title="验证码",
            channels=("sms",),
            sms_template="verify_code",
            sms_params={"code": "482913", "minutes": 10},
            urgent=True,
        )
    line = read_sms_file()[0]
    assert line["phone"] == "13800001234"
    assert line["text"] == "【政务平台】您的验证码为482913，10分钟内有效。如非本人操作请忽略。"


def test_it_refuses_unknown_channels_templates_and_missing_parameters(cast: Any) -> None:
    with pytest.raises(ValueError, match="channel"):
        notification_send(recipients=[cast.township_clerk], title="x", channels=("fax",))
    with pytest.raises(ValueError, match="template"):
        notification_send(recipients=[cast.township_clerk], title="x", channels=("sms",), sms_template="nope")
    with pytest.raises(ValueError, match="code"):
        notification_send(
            recipients=[cast.township_clerk], title="x", channels=("sms",), sms_template="verify_code"
        )
    assert not Notice.objects.exists()
    assert not Delivery.objects.exists()


def test_it_does_not_text_a_disabled_account(cast: Any, django_capture_on_commit_callbacks: Any) -> None:
    cast.township_clerk.is_active = False
    cast.township_clerk.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipients=[cast.township_clerk], title="通知", channels=("sms",))
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUPPRESSED
    assert delivery.reason == "账号已停用"
    assert read_sms_file() == []


def test_it_keeps_the_address_encrypted_at_rest(cast: Any) -> None:
    from django.db import connection

    notification_send(recipients=[cast.township_clerk], title="通知", channels=("sms",))
    delivery = Delivery.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM notify_delivery WHERE id = %s", [delivery.pk])
        (stored,) = cursor.fetchone()
    assert "13900000001" not in stored
    assert delivery.address == "13900000001"
    assert delivery.address_masked == "139****0001"
