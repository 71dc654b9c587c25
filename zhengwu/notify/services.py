"""Notifications: in-app notices, SMS and e-mail (消息通知).

`notification_send` is the one entry point for every subsystem. It is called inside the business
transaction and writes the in-app notices and one delivery record per recipient and external channel in
that same transaction (an outbox: they commit or roll back with the business change, so a crash right
after the commit cannot lose them). When the transaction commits, the deliveries are queued; a worker
claims each one with a conditional UPDATE and a lease, sends it with its fixed idempotency key and marks
it sent. A periodic recovery re-queues deliveries whose worker died (lease expired) and any never queued.
The state machine and the argument for "exactly once in effect" are in
docs/decisions/0004-notifications-and-queue.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengwu.core import access
from zhengwu.core.audit import audit_record
from zhengwu.core.models import User
from zhengwu.lib.rows import rows_insert, rows_insert_select
from zhengwu.notify.gateways import (
    SMS_TEMPLATES,
    EmailSpec,
    GatewayError,
    SmsError,
    SmsMessage,
    send_email,
    sms_backend,
)
from zhengwu.notify.models import Channel, Delivery, DeliveryStatus, Notice, NoticeLevel

logger = logging.getLogger(__name__)

APP = "app"
CHANNELS = (APP, Channel.SMS.value, Channel.EMAIL.value)
READY = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)
CHUNK = 500


# --- Quiet hours and limits ---------------------------------------------------------------------------
def _parse_quiet_hours(spec: str) -> tuple[dt.time, dt.time] | None:
    spec = (spec or "").strip().lower()
    if spec in {"", "off", "none", "0"}:
        return None
    start, _sep, end = spec.partition("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def quiet_hours_until(now: dt.datetime) -> dt.datetime | None:
    """If `now` falls in the SMS quiet hours (夜间免打扰), the moment they end; otherwise None."""
    window = _parse_quiet_hours(settings.NOTIFY_SMS_QUIET_HOURS)
    if window is None:
        return None
    start, end = window
    tz = ZoneInfo(settings.NOTIFY_QUIET_HOURS_TZ)
    local = now.astimezone(tz)
    t = local.time()
    if start <= end:  # a window inside one day, e.g. 12:00-14:00
        if not (start <= t < end):
            return None
        end_day = local.date()
    else:  # across midnight, e.g. 22:00-07:00
        if end <= t < start:
            return None
        end_day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=tz)


def _hourly_limit(channel: str) -> int:
    if channel == Channel.SMS:
        return int(settings.NOTIFY_SMS_HOURLY_LIMIT)
    return int(settings.NOTIFY_EMAIL_HOURLY_LIMIT)


def _recent_counts(recipient_ids: Sequence[int], channels: Sequence[str], now: dt.datetime) -> dict:
    """Messages per (recipient, channel) in the last hour that went or are going out."""
    rows = (
        Delivery.objects.filter(
            recipient_id__in=recipient_ids,
            channel__in=channels,
            created_at__gte=now - dt.timedelta(hours=1),
        )
        .exclude(status=DeliveryStatus.SUPPRESSED)
        .values("recipient_id", "channel")
        .annotate(n=Count("id"))
    )
    return {(r["recipient_id"], r["channel"]): r["n"] for r in rows}


def _email_body(body: str, url: str) -> str:
    if not url:
        return body
    link = settings.PUBLIC_BASE_URL.rstrip("/") + url if url.startswith("/") else url
    return f"{body}\n\n{_('查看详情：')}{link}".strip()


# --- The public API -----------------------------------------------------------------------------------
def notification_send(
    *,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    url: str = "",
    channels: Sequence[str] = (APP,),
    level: str = NoticeLevel.INFO,
    key: str = "",
    urgent: bool = False,
    sms_template: str = "generic",
    sms_params: dict[str, Any] | None = None,
) -> None:
    """Notify people on the given channels ("app", "sms", "email"), as part of the current transaction.

    `key` makes the call idempotent: for the same recipient and channel the same key never produces a
    second notice or delivery, so a retried business action does not notify twice. Urgent messages are
    sent in the SMS quiet hours; others wait for the hours to end. Excess over the per-recipient hourly
    limit is recorded as suppressed (the in-app notice is always written).
    """
    wanted = tuple(dict.fromkeys(channels))
    unknown = [c for c in wanted if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown notification channel(s): {unknown}")
    if level not in NoticeLevel.values:
        raise ValueError(f"unknown notice level: {level}")
    if Channel.SMS in wanted:
        if sms_template not in SMS_TEMPLATES:
            raise ValueError(f"unknown SMS template: {sms_template}")
        params = sms_params if sms_params is not None else {"text": title}
        try:
            SmsMessage(phone="", template=sms_template, params=params).render()
        except SmsError as exc:
            raise ValueError(str(exc)) from exc
    recipient_ids = list(dict.fromkeys(int(getattr(r, "pk", r)) for r in recipients))
    if not recipient_ids:
        return
    title = title[:200]
    key = key[:128]
    if APP in wanted:
        # rows_insert is bulk_create's statement, built once per batch size (a process step sends one).
        for i in range(0, len(recipient_ids), CHUNK):
            rows_insert(
                [
                    Notice(recipient_id=rid, title=title, body=body, url=url[:500], level=level, key=key)
                    for rid in recipient_ids[i : i + CHUNK]
                ],
                ignore_conflicts=bool(key),
            )
    external = [c for c in wanted if c != APP]
    if not external:
        return
    delivery_key = key or f"auto-{uuid.uuid4().hex}"
    queued: list[tuple[int, dt.datetime | None]] = []
    for i in range(0, len(recipient_ids), CHUNK):
        queued += _deliveries_create(
            recipient_ids=recipient_ids[i : i + CHUNK],
            channels=external,
            title=title,
            body=_email_body(body, url),
            key=delivery_key,
            urgent=urgent,
            sms_template=sms_template,
            sms_params=sms_params if sms_params is not None else {"text": title},
        )
    if queued:
        transaction.on_commit(lambda: deliveries_enqueue(queued), robust=True)


def notices_send_select(
    *, recipients: str, params: Sequence[Any], title: str, body: str = "", url: str = "", key: str = ""
) -> int:
    """In-app notices (level info) for the users a statement selects — ``recipients``, one column of
    distinct user ids — in one ``INSERT … SELECT``, without reading the ids first: the same rows as
    ``notification_send(recipients=<those ids>, …)`` on the app channel, in the current transaction, and
    idempotent by ``key`` in the same way. The number of notices written."""
    notice = Notice(title=title[:200], body=body, url=url[:500], level=NoticeLevel.INFO, key=key[:128])
    return rows_insert_select(notice, "recipient", recipients, params, ignore_conflicts=bool(notice.key))


def notice_send(
    *, recipients: Iterable[Any], title: str, body: str = "", url: str = "", level: str = NoticeLevel.INFO
) -> None:
    """In-app notices only (kept for existing callers; same as notification_send with channels=("app",))."""
    notification_send(recipients=recipients, title=title, body=body, url=url, level=level)


def _deliveries_create(
    *,
    recipient_ids: Sequence[int],
    channels: Sequence[str],
    title: str,
    body: str,
    key: str,
    urgent: bool,
    sms_template: str,
    sms_params: dict[str, Any],
) -> list[tuple[int, dt.datetime | None]]:
    now = timezone.now()
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=recipient_ids).only("pk", "name", "mobile", "email", "is_active")
    }
    recent = _recent_counts(recipient_ids, channels, now)
    quiet_end = None if urgent else quiet_hours_until(now)
    rows: list[Delivery] = []
    for rid in recipient_ids:
        user = users.get(rid)
        if user is None:
            continue
        for channel in channels:
            address = (user.mobile if channel == Channel.SMS else user.email) or ""
            row = Delivery(
                channel=channel,
                recipient_id=rid,
                recipient_label=(user.name or "")[:64],
                address=address.strip(),
                key=key,
                title=title,
                urgent=urgent,
                created_at=now,
                updated_at=now,
                queued_at=now,
            )
            if channel == Channel.SMS:
                row.template = sms_template
                row.params = sms_params
            else:
                row.subject = title
                row.body = body
            limit = _hourly_limit(channel)
            if not user.is_active:
                row.status, row.reason = DeliveryStatus.SUPPRESSED, _("账号已停用")
            elif not row.address:
                row.status = DeliveryStatus.SUPPRESSED
                row.reason = _("未登记手机号") if channel == Channel.SMS else _("未登记电子邮箱")
            elif recent.get((rid, channel), 0) >= limit:
                row.status = DeliveryStatus.SUPPRESSED
                row.reason = _("超过每人每小时 %(n)d 条的频率限制") % {"n": limit}
            elif channel == Channel.SMS and quiet_end is not None:
                row.status, row.not_before, row.queued_at = DeliveryStatus.DEFERRED, quiet_end, quiet_end
                row.reason = _("夜间免打扰，%(t)s 后发送") % {
                    "t": timezone.localtime(quiet_end).strftime("%m-%d %H:%M")
                }
            rows.append(row)
    if not rows:
        return []
    # A key already used for this recipient and channel keeps its first delivery (unique constraint).
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(send_key__in=[r.send_key for r in rows], status__in=READY).values_list(
            "pk", "not_before"
        )
    )


# --- Queueing and sending -----------------------------------------------------------------------------
FAN_OUT_ABOVE = 20


def deliveries_enqueue(items: Sequence[tuple[int, dt.datetime | None]], *, fan_out: bool = True) -> None:
    """Put deliveries on the task queue (now, or at `not_before`). Safe to repeat: a claim happens once.

    A large batch (a meeting notice to a thousand people) goes on the queue as one fan-out message that
    a worker expands, so the request that caused it does not wait for a thousand queue writes.
    """
    from zhengwu.notify.tasks import deliveries_fan_out_task, delivery_send_task

    if fan_out and len(items) > FAN_OUT_ABOVE:
        for i in range(0, len(items), 1000):
            deliveries_fan_out_task(list(items[i : i + 1000]))
        return
    now = timezone.now()
    for pk, not_before in items:
        if not_before is not None and not_before > now:
            delivery_send_task.schedule(args=(pk,), eta=not_before)
        else:
            delivery_send_task(pk)


def _worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"[:80]


def _backoff_seconds(attempts: int) -> float:
    return float(min(settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600))


def _send_once(delivery: Delivery) -> str:
    if delivery.channel == Channel.SMS:
        return sms_backend().send(
            SmsMessage(
                phone=delivery.address,
                template=delivery.template,
                params=dict(delivery.params or {}),
                idempotency_key=delivery.send_key,
            )
        )
    return send_email(
        EmailSpec(
            to=delivery.address,
            subject=delivery.subject or delivery.title,
            body=delivery.body,
            idempotency_key=delivery.send_key,
        )
    )


def delivery_process(delivery_id: int) -> str:
    """Claim one delivery, send it, record the outcome. Returns what happened (for logs and tests).

    Claim: a conditional UPDATE (pending/deferred and due → sending, with a lease and a fresh claim token)
    in its own transaction, so of any number of workers holding the same queue message exactly one sends.
    Every later write is fenced by the claim token: a worker whose lease ran out cannot overwrite the
    outcome of the one that took over.
    """
    now = timezone.now()
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in READY:
        return "skipped"
    if delivery.not_before is not None and delivery.not_before > now:
        # Queued early (a duplicate message, or clocks apart): come back when it is due.
        deliveries_enqueue([(delivery.pk, delivery.not_before)])
        return "not-due"
    if delivery.channel == Channel.SMS and not delivery.urgent:
        until = quiet_hours_until(now)
        if until is not None:
            moved = Delivery.objects.filter(pk=delivery.pk, status__in=READY).update(
                status=DeliveryStatus.DEFERRED,
                not_before=until,
                queued_at=until,
                reason=_("夜间免打扰，%(t)s 后发送")
                % {"t": timezone.localtime(until).strftime("%m-%d %H:%M")},
                updated_at=now,
            )
            if moved:
                deliveries_enqueue([(delivery.pk, until)])
            return "deferred"
    token = uuid.uuid4().hex
    claimed = (
        Delivery.objects.filter(pk=delivery.pk, status__in=READY)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            lease_until=now + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            worker=_worker_label(),
            updated_at=now,
        )
    )
    if not claimed:
        return "skipped"
    delivery.refresh_from_db()
    if delivery.provider_message_id:
        # The provider accepted it on an earlier attempt whose worker lost its claim before marking it.
        _mark_sent(delivery, token, delivery.provider_message_id)
        return "sent"
    try:
        provider_id = _send_once(delivery)
    except GatewayError as exc:
        return _after_failure(delivery, token, str(exc), retryable=exc.retryable)
    except Exception as exc:
        logger.exception("delivery %s: unexpected error while sending", delivery.pk)
        return _after_failure(delivery, token, f"{type(exc).__name__}: {exc}", retryable=True)
    _mark_sent(delivery, token, provider_id or f"{delivery.channel}-{delivery.send_key}")
    return "sent"


def _mark_sent(delivery: Delivery, token: str, provider_id: str) -> None:
    now = timezone.now()
    done = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claim_token=token).update(
        status=DeliveryStatus.SENT,
        provider_message_id=provider_id[:128],
        sent_at=now,
        lease_until=None,
        last_error="",
        updated_at=now,
    )
    if not done:
        # Our lease ran out and another worker holds the delivery now: leave it the provider's answer so
        # it marks the delivery sent without sending again.
        Delivery.objects.filter(pk=delivery.pk, provider_message_id="").update(
            provider_message_id=provider_id[:128], updated_at=now
        )


def _after_failure(delivery: Delivery, token: str, error: str, *, retryable: bool) -> str:
    now = timezone.now()
    fenced = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, claim_token=token)
    if retryable and delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        not_before = now + dt.timedelta(seconds=_backoff_seconds(delivery.attempts))
        status = DeliveryStatus.PENDING
        if delivery.channel == Channel.SMS and not delivery.urgent:
            until = quiet_hours_until(not_before)
            if until is not None:
                status, not_before = DeliveryStatus.DEFERRED, until
        if fenced.update(
            status=status,
            not_before=not_before,
            queued_at=not_before,
            lease_until=None,
            claim_token="",
            last_error=error[:2000],
            updated_at=now,
        ):
            deliveries_enqueue([(delivery.pk, not_before)])
        return "retry"
    fenced.update(
        status=DeliveryStatus.FAILED,
        lease_until=None,
        claim_token="",
        last_error=error[:2000],
        updated_at=now,
    )
    return "failed"


def deliveries_recover(*, limit: int = 5000) -> int:
    """Re-queue what a dead worker left and what never reached the queue; returns how many were queued.

    Runs every minute and when a worker starts. A delivery still `sending` after its lease went back to
    `pending`; any due delivery not queued within NOTIFY_REQUEUE_AFTER_SECONDS is queued again. Each
    re-queue is itself a conditional UPDATE, so two recoveries running at once queue a delivery once.
    """
    now = timezone.now()
    expired = Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.PENDING,
        lease_until=None,
        claim_token="",
        queued_at=None,
        last_error=_("发送进程中断（租约过期），已重新排队"),
        updated_at=now,
    )
    if expired:
        logger.warning("notify: %d deliveries had an expired lease and were re-queued", expired)
    stale = now - dt.timedelta(seconds=settings.NOTIFY_REQUEUE_AFTER_SECONDS)
    never_queued = Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    candidates = list(
        Delivery.objects.filter(due & never_queued, status__in=READY)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    mine: list[tuple[int, dt.datetime | None]] = []
    for pk in candidates:
        if Delivery.objects.filter(never_queued, pk=pk, status__in=READY).update(queued_at=now):
            mine.append((pk, None))
    deliveries_enqueue(mine)
    return len(mine)


# --- Staff actions ------------------------------------------------------------------------------------
@transaction.atomic
def delivery_resend(*, actor: Any, delivery_id: Any) -> Delivery:
    """重新发送: a platform system admin sends a failed delivery again (same key: never a duplicate)."""
    if not access.is_system_admin(actor):
        raise PermissionError(_("只有平台系统管理员可以重新发送"))
    try:
        delivery = Delivery.objects.select_for_update().get(pk=int(delivery_id))
    except (Delivery.DoesNotExist, TypeError, ValueError):
        raise ValidationError(_("发送记录不存在")) from None
    if delivery.status != DeliveryStatus.FAILED:
        raise ValidationError(_("只有发送失败的记录可以重新发送"))
    now = timezone.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.not_before = None
    delivery.queued_at = now
    delivery.reason = _("由 %(name)s 重新发送") % {"name": actor.name}
    delivery.updated_at = now
    delivery.save(update_fields=["status", "not_before", "queued_at", "reason", "updated_at"])
    audit_record(
        action="delivery.resend",
        obj=delivery,
        object_label=f"{delivery.get_channel_display()} #{delivery.pk}",
        before={"status": DeliveryStatus.FAILED, "attempts": delivery.attempts},
        after={"status": DeliveryStatus.PENDING},
        actor=actor,
    )
    pk = delivery.pk
    transaction.on_commit(lambda: deliveries_enqueue([(pk, None)]), robust=True)
    return delivery


def notice_mark_read(*, user: Any, notice_id: Any) -> Notice:
    """Mark one of the user's own notices read; someone else's (or a guessed id) is 'not found'."""
    try:
        notice = Notice.objects.get(pk=int(notice_id), recipient=user)
    except (Notice.DoesNotExist, TypeError, ValueError):
        raise ValidationError(_("通知不存在")) from None
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def notices_mark_all_read(*, user: Any) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
