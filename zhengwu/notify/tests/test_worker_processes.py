"""Real worker processes (`manage.py run_huey`) on the queue the settings give: SqliteHuey, or RedisHuey
when REDIS_URL is set. Not immediate mode: this test enqueues, separate processes send."""

from __future__ import annotations

import collections
import os
import signal
import time
from typing import Any

import pytest
from django.db import transaction

from zhengwu.core.models import AccountKind, User
from zhengwu.notify.gateways import FileSmsBackend
from zhengwu.notify.models import Delivery, DeliveryStatus
from zhengwu.notify.services import notification_send
from zhengwu.notify.tests.conftest import Workers, wait_until


def _people(n: int, prefix: str) -> list[User]:
    users = [
        User(
            username=f"{prefix}{i:04d}",
            name=f"测试用户{i}",
            kind=AccountKind.STAFF,
            mobile=f"139{i:08d}",
            password="!",
        )
        for i in range(n)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(username__startswith=prefix).order_by("username"))


def _sms_lines(workers: Workers) -> list[dict[str, Any]]:
    import json

    path = workers.sms_dir / FileSmsBackend.file_name
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    # A line being written by a worker at this instant may be incomplete: count complete ones only.
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _queue_kind(workers: Workers) -> str:
    return "redis" if workers.uses_redis else "sqlite"


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_sms_and_sends_none_twice_when_a_worker_is_killed_mid_send(workers: Workers) -> None:
    people = _people(200, "kill")
    with workers.queue(), transaction.atomic():
        notification_send(
            recipients=people,
            title="会议通知：明日九时在三楼会议室召开专题会",
            channels=("sms",),
            key="meeting-2026-42",
        )
    deliveries = list(Delivery.objects.filter(key="meeting-2026-42"))
    assert len(deliveries) == 200
    keys = {d.send_key for d in deliveries}

    # Slow to answer after accepting (the window this test is about); the second worker is quick.
    workers.env["ZHENGWU_TEST_SMS_DELAY"] = "0.01,0.2"
    first = workers.start()

    def caught_in_the_window() -> bool:
        """Mid-way, and a message is in the provider's file while its delivery still says `sending`."""
        in_file = {line["key"] for line in _sms_lines(workers)}
        if len(in_file) < 20:
            return False
        sending = set(
            Delivery.objects.filter(status=DeliveryStatus.SENDING).values_list("send_key", flat=True)
        )
        return bool(sending & in_file)

    wait_until(caught_in_the_window, timeout=60, interval=0.01, what="a send in flight\n" + workers.logs())
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL

    in_file_at_kill = {line["key"] for line in _sms_lines(workers)}
    orphans = list(Delivery.objects.filter(status=DeliveryStatus.SENDING))
    accepted_orphans = [d for d in orphans if d.send_key in in_file_at_kill]
    assert accepted_orphans, (
        "the kill must leave a message the provider accepted but nobody marked sent\n" + workers.logs()
    )
    assert len(in_file_at_kill) < 200, "the worker must be killed mid-way"

    # The dead worker's lease runs out; the next worker recovers what it left when it starts.
    time.sleep(workers.lease_seconds + 0.5)
    workers.env["ZHENGWU_TEST_SMS_DELAY"] = "0.005,0.005"
    workers.start()
    wait_until(
        lambda: Delivery.objects.filter(key="meeting-2026-42", status=DeliveryStatus.SENT).count() == 200,
        timeout=120,
        interval=0.2,
        what="every delivery sent\n" + workers.logs(),
    )

    lines = _sms_lines(workers)
    per_key = collections.Counter(line["key"] for line in lines)
    assert set(per_key) == keys, "no notification lost"
    assert max(per_key.values()) == 1, "no notification sent twice"
    assert sorted(line["phone"] for line in lines) == sorted(p.mobile for p in people)
    by_key = {line["key"]: line["id"] for line in lines}
    for orphan in accepted_orphans:
        orphan.refresh_from_db()
        assert orphan.status == DeliveryStatus.SENT
        assert orphan.attempts == 2
        assert orphan.provider_message_id == by_key[orphan.send_key]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_it_shares_a_batch_between_two_worker_processes_and_sends_each_once(workers: Workers) -> None:
    from django.conf import settings
    from huey import RedisHuey, SqliteHuey
    from huey.contrib.djhuey import HUEY

    # The same task code on whichever queue this run is configured for (CI runs both).
    assert isinstance(HUEY, RedisHuey if settings.REDIS_URL else SqliteHuey)
    people = _people(120, "pair")
    workers.env["ZHENGWU_TEST_SMS_DELAY"] = "0.03,0.03"
    first, second = workers.start(), workers.start(cli=True)  # as an operator starts one: `zhengwu worker`
    with workers.queue(), transaction.atomic():
        notification_send(
            recipients=people, title="值班提醒：今晚请按时到岗", channels=("sms",), key="duty-0415"
        )
    wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 120,
        timeout=90,
        interval=0.2,
        what=f"every delivery sent on {_queue_kind(workers)}\n" + workers.logs(),
    )
    lines = _sms_lines(workers)
    per_key = collections.Counter(line["key"] for line in lines)
    assert len(per_key) == 120
    assert set(per_key.values()) == {1}
    pids = {int(w.split(":")[1]) for w in Delivery.objects.values_list("worker", flat=True)}
    assert pids == {first.pid, second.pid}, "both worker processes took part"
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
