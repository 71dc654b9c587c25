"""In-app notices (站内通知) and the record of every SMS and e-mail sent (发送记录)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengwu.core.fields import EncryptedTextField
from zhengwu.lib.masking import mask_email, mask_phone


class NoticeLevel(models.TextChoices):
    INFO = "info", _("通知")
    WARNING = "warning", _("提醒")
    ALERT = "alert", _("告警")


class Notice(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    level = models.CharField(max_length=10, choices=NoticeLevel.choices, default=NoticeLevel.INFO)
    # The caller's idempotency key: a retried business action never notifies the same person twice.
    key = models.CharField(_("幂等键"), max_length=128, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~Q(key=""), name="notice_unique_key"
            )
        ]
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class DeliveryStatus(models.TextChoices):
    """The delivery state machine (docs/decisions/0004-notifications-and-queue.md)."""

    PENDING = "pending", _("待发送")
    DEFERRED = "deferred", _("延后发送")  # quiet hours: waits until `not_before`
    SENDING = "sending", _("发送中")  # claimed by a worker until `lease_until`
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SUPPRESSED = "suppressed", _("未发送")  # rate limit, no address, account disabled


def _new_send_key() -> str:
    return uuid.uuid4().hex


class Delivery(models.Model):
    """One message to one person on one external channel (短信/邮件发送记录).

    Created in the business transaction that caused it (an outbox row), then sent by the task queue.
    `send_key` is fixed at creation and goes to the gateway on every attempt, so a re-send after a crash
    is recognised by the provider as the same message.
    """

    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name=_("接收人"),
    )
    recipient_label = models.CharField(_("接收人姓名"), max_length=64, blank=True)
    # Phone number or e-mail address as it was when the message was created (SM4-encrypted at rest).
    address = EncryptedTextField(_("地址"), blank=True, default="")
    key = models.CharField(_("幂等键"), max_length=128)
    send_key = models.CharField(max_length=32, unique=True, default=_new_send_key, editable=False)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    template = models.CharField(_("短信模板"), max_length=64, blank=True)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    subject = models.CharField(_("邮件主题"), max_length=200, blank=True)
    body = models.TextField(_("邮件正文"), blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    not_before = models.DateTimeField(_("最早发送时间"), null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    worker = models.CharField(_("处理进程"), max_length=80, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=128, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "recipient", "key"], name="delivery_unique_key"),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="delivery_ready"),
            models.Index(fields=["status", "lease_until"], name="delivery_lease"),
            models.Index(fields=["recipient", "channel", "created_at"], name="delivery_recent"),
            models.Index(fields=["-created_at"], name="delivery_newest"),
        ]
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient_label} · {self.title}"

    @property
    def address_masked(self) -> str:
        if not self.address:
            return ""
        return mask_email(self.address) if self.channel == Channel.EMAIL else mask_phone(self.address)
