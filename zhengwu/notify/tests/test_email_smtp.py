"""E-mail through Django's SMTP backend to a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from zhengwu.notify.gateways import message_id_for
from zhengwu.notify.models import Channel, Delivery, DeliveryStatus
from zhengwu.notify.services import delivery_process, notification_send


class Mailbox:
    """An SMTP server's handler: keeps what it accepts; refuses unknown mailboxes; can defer N messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.defer_first = 0
        self.data_calls = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.data_calls <= self.defer_first:
            return "451 4.3.0 try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "noreply@pl.gov.cn"
    try:
        yield box
    finally:
        controller.stop()


def _mail(cast: Any, capture: Any, address: str, title: str = "关于报送月度工作信息的通知") -> Delivery:
    cast.county_reviewer.email = address
    cast.county_reviewer.save(update_fields=["email"])
    with capture(execute=True), transaction.atomic():
        notification_send(
            recipients=[cast.county_reviewer],
            title=title,
            body="请于本月25日前报送。",
            url="/workbench/",
            channels=("email",),
            key="info-report-2026-05",
        )
    return Delivery.objects.get(channel=Channel.EMAIL)


def test_it_delivers_e_mail_over_smtp_with_a_message_id_fixed_by_the_key(
    cast: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _mail(cast, django_capture_on_commit_callbacks, "chen@kt.gov.cn")
    assert delivery.status == DeliveryStatus.SENT
    (message,) = smtp.messages
    assert smtp.envelopes == [("noreply@pl.gov.cn", ["chen@kt.gov.cn"])]
    assert str(email.header.make_header(email.header.decode_header(message["Subject"]))) == (
        "关于报送月度工作信息的通知"
    )
    assert message["Message-ID"] == message_id_for(delivery.send_key)
    assert message["Message-ID"].endswith("@pl.gov.cn>")
    assert delivery.provider_message_id == message["Message-ID"]
    body = message.get_payload(decode=True).decode()
    assert "请于本月25日前报送。" in body
    assert "/workbench/" in body


def test_it_sends_the_same_message_id_when_it_must_send_again(
    cast: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _mail(cast, django_capture_on_commit_callbacks, "chen@kt.gov.cn")
    # A crash between the server's "250" and the database write: the next attempt carries the same
    # Message-ID, which mail systems use to drop the copy.
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, provider_message_id="")
    assert delivery_process(delivery.pk) == "sent"
    assert [m["Message-ID"] for m in smtp.messages] == [message_id_for(delivery.send_key)] * 2


def test_it_does_not_send_again_once_the_server_accepted_it(
    cast: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _mail(cast, django_capture_on_commit_callbacks, "chen@kt.gov.cn")
    # The acceptance was recorded but the worker lost its claim before marking it sent.
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING)
    assert delivery_process(delivery.pk) == "sent"
    assert len(smtp.messages) == 1


def test_it_marks_an_unknown_mailbox_failed(
    cast: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _mail(cast, django_capture_on_commit_callbacks, "nobody@kt.gov.cn")
    assert delivery.status == DeliveryStatus.FAILED
    assert "550" in delivery.last_error
    assert smtp.messages == []


def test_it_retries_when_the_server_says_try_later(
    cast: Any, smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    smtp.defer_first = 1
    delivery = _mail(cast, django_capture_on_commit_callbacks, "chen@kt.gov.cn")
    assert delivery.status == DeliveryStatus.PENDING
    assert "451" in delivery.last_error
    Delivery.objects.filter(pk=delivery.pk).update(not_before=None)  # the backoff has passed
    assert delivery_process(delivery.pk) == "sent"
    assert len(smtp.messages) == 1


def test_it_retries_when_the_server_is_down(
    cast: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    delivery = _mail(cast, django_capture_on_commit_callbacks, "chen@kt.gov.cn")
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("邮件服务器无法连接")
