"""Verification codes for public accounts (验证码) and the record of every code send.

Neither table ever holds a plain phone number or e-mail address: the target is kept as a keyed SM3
blind index (to find earlier sends and codes) plus a masked form (to show people and auditors), and the
code itself only as a salted keyed digest.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CodeChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("注册账号")
    RESET_PASSWORD = "reset_password", _("找回密码")


class SendResult(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("网关发送失败")
    # Password reset for an address with no account: nothing goes out, but the caller is told the same
    # as for a real account, and the attempt counts against the limits like a real send.
    NO_ACCOUNT = "no_account", _("无对应账号，未发送")
    REGISTERED = "registered", _("已注册，未发送")
    REFUSED_INTERVAL = "refused_interval", _("拒绝：发送过于频繁")
    REFUSED_DAILY = "refused_daily", _("拒绝：超过当日上限")
    REFUSED_IP = "refused_ip", _("拒绝：同一地址每小时超限")


# Results that used up a send (they count against the interval and the daily and hourly limits).
COUNTED_RESULTS = (SendResult.SENT, SendResult.FAILED, SendResult.NO_ACCOUNT)
REFUSED_RESULTS = (SendResult.REFUSED_INTERVAL, SendResult.REFUSED_DAILY, SendResult.REFUSED_IP)


class ThrottleKey(models.Model):
    """A lock row per target and per client address: sends to one target (or from one address) queue
    on it, so two simultaneous requests cannot both slip under a limit."""

    key = models.CharField(max_length=80, unique=True)

    class Meta:
        verbose_name = _("限流锁")
        verbose_name_plural = _("限流锁")

    def __str__(self) -> str:
        return self.key[:16]


class VerificationCode(models.Model):
    """验证码: six digits sent to a phone or mailbox, valid 10 minutes, 5 wrong tries, used once.

    Only the newest code for a target and purpose is valid: sending a new one retires the older ones.
    """

    target_index = models.CharField(max_length=64, db_index=True)
    target_masked = models.CharField(_("发送对象"), max_length=80)
    channel = models.CharField(_("渠道"), max_length=8, choices=CodeChannel.choices)
    purpose = models.CharField(_("用途"), max_length=16, choices=CodePurpose.choices)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_index", "purpose", "-created_at"])]
        verbose_name = _("验证码")
        verbose_name_plural = _("验证码")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.target_masked}"


class CodeSend(models.Model):
    """验证码发送记录: every request to send a code — sent, failed or refused by a limit."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    target_index = models.CharField(max_length=64)
    target_masked = models.CharField(_("发送对象"), max_length=80)
    channel = models.CharField(_("渠道"), max_length=8, choices=CodeChannel.choices)
    purpose = models.CharField(_("用途"), max_length=16, choices=CodePurpose.choices)
    ip = models.CharField(_("来源地址"), max_length=45, blank=True)
    result = models.CharField(_("结果"), max_length=20, choices=SendResult.choices)
    code = models.ForeignKey(
        VerificationCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="sends"
    )
    provider_id = models.CharField(_("网关消息编号"), max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_index", "at"]),
            models.Index(fields=["ip", "at"]),
        ]
        verbose_name = _("验证码发送记录")
        verbose_name_plural = _("验证码发送记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.target_masked} {self.get_result_display()}"
