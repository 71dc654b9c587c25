"""The delivery state machine: one claim per delivery, fenced outcomes, recovery after a dead worker."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.utils import timezone
from huey.storage import MemoryStorage

from zhengwu.notify.gateways import FileSmsBackend, SmsMessage, read_sms_file
from zhengwu.notify.models import Delivery, DeliveryStatus
from zhengwu.notify.services import deliveries_recover, delivery_process, notification_send
from zhengwu.notify.tests.conftest import _real_queue


class DuplicateMessageBackend(FileSmsBackend):
    """While sending, the same delivery's duplicate queue message is processed (another worker)."""

    seen: ClassVar[list[str]] = []

    def send(self, message: SmsMessage) -> str:
        delivery = Delivery.objects.get(send_key=message.idempotency_key)
        self.seen.append(delivery_process(delivery.pk))
        return super().send(message)


class LeaseLostBackend(FileSmsBackend):
    """Sends so slowly that the lease runs out and recovery hands the delivery back to the queue."""

    calls: ClassVar[int] = 0

    def send(self, message: SmsMessage) -> str:
        type(self).calls += 1
        Delivery.objects.filter(send_key=message.idempotency_key).update(
            status=DeliveryStatus.PENDING, claim_token="", lease_until=None
        )
        return super().send(message)


def _queued_delivery(cast: Any) -> Delivery:
    """A delivery created and committed but not yet processed (its queue message is elsewhere)."""
    with _real_queue(MemoryStorage("test")), transaction.atomic():
        notification_send(recipients=[cast.township_clerk], title="请参加周例会", channels=("sms",))
    return Delivery.objects.get()


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_worker_claim_a_delivery(cast: Any, settings: Any) -> None:
    settings.SMS_BACKEND = "zhengwu.notify.tests.test_delivery_states.DuplicateMessageBackend"
    DuplicateMessageBackend.seen.clear()
    delivery = _queued_delivery(cast)
    assert delivery_process(delivery.pk) == "sent"
    assert DuplicateMessageBackend.seen == ["skipped"]
    assert len(read_sms_file()) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery_process(delivery.pk) == "skipped"


@pytest.mark.django_db(transaction=True)
def test_it_never_sends_again_after_a_worker_lost_its_lease_mid_send(cast: Any, settings: Any) -> None:
    settings.SMS_BACKEND = "zhengwu.notify.tests.test_delivery_states.LeaseLostBackend"
    LeaseLostBackend.calls = 0
    delivery = _queued_delivery(cast)
    # The slow worker finishes after losing its claim: it may not mark the delivery, only leave the
    # provider's answer on it.
    assert delivery_process(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.provider_message_id == read_sms_file()[0]["id"]
    # The next worker sees the provider already accepted it and marks it sent without sending.
    assert delivery_process(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert LeaseLostBackend.calls == 1
    assert len(read_sms_file()) == 1


@pytest.mark.django_db(transaction=True)
def test_it_requeues_a_delivery_whose_worker_died_once_the_lease_expires(cast: Any) -> None:
    delivery = _queued_delivery(cast)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        claim_token="dead",
        lease_until=now + dt.timedelta(seconds=60),
    )
    assert deliveries_recover() == 0  # still leased: the worker may be alive
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=now - dt.timedelta(seconds=1))
    assert deliveries_recover() == 1  # immediate mode: queued and sent at once
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert len(read_sms_file()) == 1


@pytest.mark.django_db(transaction=True)
def test_it_queues_deliveries_that_never_reached_the_queue_exactly_once(cast: Any, settings: Any) -> None:
    delivery = _queued_delivery(cast)
    with _real_queue(MemoryStorage("recover")) as huey:
        assert deliveries_recover() == 0  # queued a moment ago: its message is presumably in the queue
        Delivery.objects.filter(pk=delivery.pk).update(
            queued_at=timezone.now() - dt.timedelta(seconds=settings.NOTIFY_REQUEUE_AFTER_SECONDS + 1)
        )
        assert deliveries_recover() == 1
        assert deliveries_recover() == 0  # a second recovery running just after does not queue it again
        assert huey.pending_count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_queues_deferred_messages_for_the_end_of_quiet_hours(cast: Any, settings: Any) -> None:
    settings.NOTIFY_SMS_QUIET_HOURS = "22:00-07:00"
    from freezegun import freeze_time

    with freeze_time("2026-05-11 23:00:00+08:00"), _real_queue(MemoryStorage("quiet")) as huey:
        with transaction.atomic():
            notification_send(recipients=[cast.township_clerk], title="明日检查", channels=("sms",))
        # One message, due at 07:00 Beijing time (huey keeps its times in UTC).
        (task,) = huey.pending()
        assert task.eta == dt.datetime(2026, 5, 11, 23, 0, tzinfo=dt.UTC).replace(tzinfo=None)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DEFERRED
    assert task.args == (delivery.pk,)


@pytest.mark.django_db(transaction=True)
def test_it_queues_a_large_batch_as_one_message_that_a_worker_expands() -> None:
    from zhengwu.core.models import User

    User.objects.bulk_create(
        [User(username=f"batch{i}", name=f"人员{i}", mobile=f"137{i:08d}", password="!") for i in range(30)]
    )
    with _real_queue(MemoryStorage("fan-out")) as huey:
        with transaction.atomic():
            notification_send(recipients=User.objects.all(), title="全市视频会议通知", channels=("sms",))
        assert huey.pending_count() == 1  # the request wrote one queue message, not thirty
        huey.execute(huey.dequeue())
        assert huey.pending_count() == 30
        while huey.pending_count():
            huey.execute(huey.dequeue())
    assert len(read_sms_file()) == 30
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
