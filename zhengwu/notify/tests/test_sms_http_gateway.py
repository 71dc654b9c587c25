"""The HTTP SMS adapter against a real HTTP server in a thread, shaped like a Chinese SMS provider."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from zhengwu.notify.gateways import SmsError, SmsMessage, sms_http_signature
from zhengwu.notify.models import Delivery, DeliveryStatus
from zhengwu.notify.services import delivery_process, notification_send

SECRET = "test-secret-key"


class FakeProvider:
    """Records every request; fails the first `fail_first` calls; de-duplicates by OutId like a provider."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = 0
        self.failure: tuple[int, dict[str, str]] = (500, {})
        self.by_out_id: dict[str, str] = {}
        self.delivered: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def handle(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.requests.append({"headers": headers, "form": form})
            signature = form.pop("Signature", "")
            if signature != sms_http_signature(form, SECRET):
                return 400, {"Code": "SignatureDoesNotMatch", "Message": "签名错误"}
            if len(self.requests) <= self.fail_first:
                return self.failure
            if form["PhoneNumbers"].startswith("000"):
                return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
            out_id = form.get("OutId", "")
            if out_id and out_id in self.by_out_id:
                return 200, {"Code": "OK", "Message": "OK", "BizId": self.by_out_id[out_id]}
            biz_id = f"biz-{uuid.uuid4().hex[:10]}"
            self.by_out_id[out_id] = biz_id
            self.delivered.append(form)
            return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": uuid.uuid4().hex}


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeProvider]:
    fake = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            status, answer = fake.handle(dict(self.headers.items()), form)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "zhengwu.notify.gateways.HttpSmsBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.SMS_HTTP_KEY_ID = "LTAI-test"
    settings.SMS_HTTP_KEY = SECRET
    settings.SMS_HTTP_TEMPLATE_CODES = {"generic": "SMS_100001", "verify_code": "SMS_100002"}
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _process_later(delivery: Delivery, minutes: int) -> str:
    """Run the queued retry once its backoff has passed."""
    with freeze_time(timezone.now() + dt.timedelta(minutes=minutes)):
        return delivery_process(delivery.pk)


def _send(cast: Any, capture: Any, title: str = "请按时参加防汛会议", **kwargs: Any) -> Delivery:
    with capture(execute=True), transaction.atomic():
        notification_send(recipients=[cast.township_clerk], title=title, channels=("sms",), **kwargs)
    return Delivery.objects.get(title=title)


def test_it_posts_a_signed_template_request_with_the_out_id(
    cast: Any, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _send(cast, django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.SENT
    (request,) = provider.requests
    form = request["form"]
    assert form["PhoneNumbers"] == "13900000001"
    assert form["SignName"] == "政务平台"
    assert form["TemplateCode"] == "SMS_100001"
    assert json.loads(form["TemplateParam"]) == {"text": "请按时参加防汛会议"}
    assert form["OutId"] == delivery.send_key
    assert request["headers"]["Idempotency-Key"] == delivery.send_key
    assert delivery.provider_message_id == provider.by_out_id[delivery.send_key]


def test_it_retries_retryable_failures_and_sends_once(
    cast: Any, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.fail_first = 2
    provider.failure = (500, {})
    delivery = _send(cast, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "HTTP 500" in delivery.last_error
    # Backoff doubles: 30 s after the first failure, 60 s after the second.
    assert delivery.not_before is not None
    assert 29 <= (delivery.not_before - delivery.updated_at).total_seconds() <= 31
    assert delivery_process(delivery.pk) == "not-due"
    assert _process_later(delivery, 1) == "retry"
    delivery.refresh_from_db()
    assert delivery.not_before is not None
    assert 59 <= (delivery.not_before - delivery.updated_at).total_seconds() <= 61
    assert _process_later(delivery, 3) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert delivery.last_error == ""
    assert len(provider.requests) == 3
    assert len(provider.delivered) == 1


def test_it_treats_a_provider_throttle_code_as_retryable(
    cast: Any, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    provider.fail_first = 1
    provider.failure = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"})
    delivery = _send(cast, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert "isv.BUSINESS_LIMIT_CONTROL" in delivery.last_error
    assert _process_later(delivery, 1) == "sent"


def test_it_marks_a_permanent_error_failed_without_retrying(
    cast: Any, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    cast.township_clerk.mobile = "00012345678"
    cast.township_clerk.save(update_fields=["mobile"])
    delivery = _send(cast, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "isv.MOBILE_NUMBER_ILLEGAL" in delivery.last_error
    assert delivery_process(delivery.pk) == "skipped"
    assert len(provider.requests) == 1


def test_it_gives_up_after_the_last_attempt(
    cast: Any, provider: FakeProvider, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 3
    provider.fail_first = 10
    provider.failure = (503, {})
    delivery = _send(cast, django_capture_on_commit_callbacks)
    assert _process_later(delivery, 1) == "retry"
    assert _process_later(delivery, 5) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3


def test_it_is_deduplicated_by_the_provider_when_sent_again_after_a_crash(
    cast: Any, provider: FakeProvider, django_capture_on_commit_callbacks: Any
) -> None:
    delivery = _send(cast, django_capture_on_commit_callbacks)
    first_id = delivery.provider_message_id
    # The worker crashed after the provider accepted but before the database said "sent".
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, provider_message_id="")
    assert delivery_process(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.provider_message_id == first_id
    assert len(provider.requests) == 2
    assert len(provider.delivered) == 1


def test_it_refuses_a_wrong_signature_as_permanent(provider: FakeProvider, settings: Any) -> None:
    from zhengwu.notify.gateways import HttpSmsBackend

    settings.SMS_HTTP_KEY = "wrong"
    with pytest.raises(SmsError) as caught:
        HttpSmsBackend().send(SmsMessage(phone="13900000001", template="generic", params={"text": "x"}))
    assert caught.value.retryable is False
    assert "SignatureDoesNotMatch" in str(caught.value)


def test_it_retries_when_the_provider_cannot_be_reached(settings: Any) -> None:
    import socket

    from zhengwu.notify.gateways import HttpSmsBackend

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/"
    with pytest.raises(SmsError) as caught:
        HttpSmsBackend().send(SmsMessage(phone="13900000001", template="generic", params={"text": "x"}))
    assert caught.value.retryable is True
